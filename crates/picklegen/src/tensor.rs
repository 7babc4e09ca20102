//! A `torch.Tensor` as `torch.save` pickles it, for train dumps: [`tensor`] writes the call
//! that rebuilds a float32 tensor of any shape and stride from storage `"0"` (the ZIP entry
//! `archive/data/0`), so a few bytes of storage can claim any number of values.

use crate::Pickle;

/// Writes `torch._utils._rebuild_tensor_v2(<storage "0">, 0, shape, stride, False,
/// OrderedDict())` (leaves the tensor on the stack).
pub fn tensor(p: &mut Pickle, shape: &[i64], stride: &[i64]) {
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark()
        .str("storage")
        .global("torch", "FloatStorage")
        .str("0")
        .str("cpu")
        .int(1)
        .tuple();
    p.op(b'Q'); // BINPERSID
    p.int(0).mark();
    for &d in shape {
        p.int(d);
    }
    p.tuple().mark();
    for &s in stride {
        p.int(s);
    }
    p.tuple().bool(false);
    p.global("collections", "OrderedDict")
        .empty_tuple()
        .reduce();
    p.tuple().reduce();
}
