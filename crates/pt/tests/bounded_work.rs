//! Cycles through object state (issue #12 class 1) and uncharged or amplified VM work
//! (class 3). Each test states its bound: an output size, a memory-limit error, or a time
//! far above what the work needs (seconds for milliseconds of work) and far below what the
//! old quadratic or amplified behaviour took (minutes to hours, or a stack overflow).

use std::time::{Duration, Instant};

use picklegen::Pickle;
use pt::{Limits, Node, PickleErrorKind, Tree, Value};

fn load(bytes: &[u8], limits: &Limits) -> Result<Tree, pt::PickleError> {
    pt::pickle::load(bytes, limits, 0).map(|(t, _)| t)
}

fn within<T>(bound: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    assert!(
        t.elapsed() < bound,
        "{what}: {:?} (bound {bound:?})",
        t.elapsed()
    );
    r
}

// ---- class 1 ------------------------------------------------------------------------------

/// `obj = C.__new__(C); obj.__setstate__(state(obj))`, with `state` written by `f` (which
/// finds the object in memo 0).
fn self_state(f: impl FnOnce(&mut Pickle)) -> Tree {
    let mut p = Pickle::proto(2);
    p.new_object("m", "C").put(0);
    f(&mut p);
    p.build();
    load(&p.stop(), &Limits::default()).unwrap()
}

#[test]
fn an_object_whose_state_is_itself_is_not_a_dict() {
    // Directly, as the first item of a (dict_state, slot_state) tuple, and through a chain
    // of two objects whose states point at each other.
    let direct = self_state(|p| {
        p.get(0);
    });
    assert!(direct.as_dict(&direct.root).is_none());
    let tuple = self_state(|p| {
        p.get(0).empty_dict().tuple_n(2);
    });
    assert!(tuple.as_dict(&tuple.root).is_none());
    let chain = self_state(|p| {
        p.new_object("m", "D")
            .get(0)
            .none()
            .tuple_n(2)
            .build()
            .none()
            .tuple_n(2);
    });
    assert!(chain.as_dict(&chain.root).is_none());
    assert!(chain.get(&chain.root, "x").is_none());
    // A real slots state still reads as a dict.
    let slots = self_state(|p| {
        p.empty_dict()
            .str("x")
            .int(1)
            .setitem()
            .empty_dict()
            .tuple_n(2);
    });
    assert_eq!(slots.get(&slots.root, "x"), Some(&Value::Int(1)));
}

#[test]
fn a_tensor_whose_dtype_is_itself_prints_finitely() {
    // t.__setstate__({"dtype": t, "shape": (2,)}); and a second tensor whose dtype is the
    // first, printed within the same walk and the same budget.
    let t = self_state(|p| {
        p.empty_dict().mark();
        p.str("dtype").get(0);
        p.str("shape").int(2).tuple_n(1);
        p.setitems();
    });
    let text = within(Duration::from_secs(5), "repr", || {
        pt::walk::repr(&t, &t.root, 10_000)
    });
    assert_eq!(text, "<m.C dtype=<...> shape=(2,)>");
    let mut p = Pickle::proto(2);
    p.new_object("m", "T").put(0);
    p.empty_dict().mark();
    p.str("dtype").str(&"d".repeat(500));
    p.str("shape").empty_tuple().setitems().build();
    p.new_object("m", "U").empty_dict().mark();
    p.str("dtype")
        .get(0)
        .str("shape")
        .empty_tuple()
        .setitems()
        .build();
    let t = load(&p.stop(), &Limits::default()).unwrap();
    let whole = pt::walk::repr(&t, &t.root, 10_000);
    let d = "d".repeat(500);
    assert_eq!(
        whole,
        format!("<m.U dtype=<m.T dtype='{d}' shape=()> shape=()>")
    );
    // Cut at 100 bytes: the nested dtype is cut by the one budget of the whole walk.
    let text = pt::walk::repr(&t, &t.root, 100);
    assert!(text.starts_with("<m.U dtype=<m.T dtype='ddd"), "{text}");
    assert!(
        text.len() <= 100 + '…'.len_utf8(),
        "{} bytes: {text}",
        text.len()
    );
    assert!(text.ends_with("d…"), "{text}");
}

#[test]
fn containers_as_their_own_dict_keys_print_finitely() {
    // d = {}; d[(d,)] = 1; d[obj] = 2 where obj's state is d.
    let mut p = Pickle::proto(2);
    p.empty_dict().put(0);
    p.get(0).tuple_n(1).int(1).setitem();
    p.new_object("m", "K").get(0).build().int(2).setitem();
    let t = load(&p.stop(), &Limits::default()).unwrap();
    let text = pt::walk::repr(&t, &t.root, 1000);
    assert_eq!(text, "{({...},): 1, <m.K object>: 2}");
}

#[test]
fn shared_dtypes_cost_output_not_expansion() {
    // 40 tensors, each the dtype and the shape of the next: 2^40 leaves if expanded, and a
    // cap restarted per dtype (an older repr) would print each level again; one guard and
    // one output budget for the whole walk keep it to 500 bytes.
    let mut p = Pickle::proto(2);
    p.none().put(0).pop();
    for _ in 0..40 {
        p.new_object("m", "T").empty_dict().mark();
        p.str("dtype").get(0).str("shape").get(0);
        p.setitems().build().put(0);
    }
    let t = load(&p.stop(), &Limits::default()).unwrap();
    let text = within(Duration::from_secs(2), "repr", || {
        pt::walk::repr(&t, &t.root, 500)
    });
    assert!(text.len() <= 504, "{}", text.len());
}

// ---- class 3 ------------------------------------------------------------------------------

/// A tuple of `n` Nones in memo 1.
fn big_tuple(p: &mut Pickle, n: usize) {
    p.mark().repeat(n, |p| {
        p.none();
    });
    p.tuple().put(1).pop();
}

#[test]
fn reduce_arguments_are_not_copied() {
    // One 1 M-item tuple passed to 20 000 calls: 2·10^10 values copied by the old reader.
    let mut p = Pickle::proto(2);
    big_tuple(&mut p, 1_000_000);
    p.empty_list().mark();
    p.repeat(20_000, |p| {
        p.global("x", "Thing").get(1).reduce();
    });
    p.appends();
    let t = within(Duration::from_secs(10), "20 000 calls", || {
        load(&p.stop(), &Limits::default()).unwrap()
    });
    assert_eq!(t.as_seq(&t.root).unwrap().len(), 20_000);
    // OrderedDict(pairs) where every "pair" is that tuple: no pair is copied to be rejected.
    let mut p = Pickle::proto(2);
    big_tuple(&mut p, 1_000_000);
    p.global("collections", "OrderedDict").empty_list().mark();
    p.repeat(20_000, |p| {
        p.get(1);
    });
    p.appends().tuple_n(1).reduce();
    let t = within(Duration::from_secs(10), "OrderedDict", || {
        load(&p.stop(), &Limits::default()).unwrap()
    });
    assert!(matches!(t.node_of(&t.root), Some(Node::Dict(d)) if d.is_empty()));
}

/// Runs `p` under a 16 MiB memory limit and expects that limit to stop it.
fn hits_memory_limit(p: &mut Pickle, what: &str) {
    let limits = Limits {
        max_memory: 16 << 20,
        ..Limits::default()
    };
    let e = within(Duration::from_secs(10), what, || {
        load(&p.stop(), &limits).unwrap_err()
    });
    assert_eq!(e.kind, PickleErrorKind::MemoryLimit(16 << 20), "{what}");
}

#[test]
fn copies_names_and_set_items_are_charged() {
    // list(t), 1 000 times, each copy dropped at once: 1.6 GB copied if only live memory
    // counted. Charged output stops it at the limit.
    let mut p = Pickle::proto(2);
    big_tuple(&mut p, 100_000);
    p.repeat(1_000, |p| {
        p.global("builtins", "list")
            .get(1)
            .tuple_n(1)
            .reduce()
            .pop();
    });
    hits_memory_limit(&mut p, "list(t)");
    // getattr(cls, <60 KiB name>) 1 000 times on one memoised class: each call once made a
    // new 60 KiB name (60 MB); the same two strings now give the same name, shared.
    let mut p = Pickle::proto(2);
    p.str(&"a".repeat(60 << 10)).put(1).pop();
    p.global("x", "C").put(2).pop();
    p.empty_list().mark();
    p.repeat(1_000, |p| {
        p.global("builtins", "getattr")
            .get(2)
            .get(1)
            .tuple_n(2)
            .reduce();
    });
    p.appends();
    let limits = Limits {
        max_memory: 16 << 20,
        ..Limits::default()
    };
    let t = load(&p.stop(), &limits).unwrap();
    let names = t.as_seq(&t.root).unwrap();
    assert_eq!(names.len(), 1_000);
    match (&names[0], &names[999]) {
        (Value::Global(a), Value::Global(b)) => {
            assert!(std::rc::Rc::ptr_eq(a, b));
            assert_eq!(a.len(), "x.C.".len() + (60 << 10));
        }
        other => panic!("{other:?}"),
    }
    // A 1 MiB name is refused at once, whichever way it arrives.
    for stack_global in [false, true] {
        let mut p = Pickle::proto(4);
        if stack_global {
            p.stack_global(&"m".repeat(1 << 20), "C");
        } else {
            p.global(&"m".repeat(1 << 20), "C");
        }
        let e = load(&p.stop(), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("longer than 64 KiB"), "{e}");
    }
    // ADDITEMS: 2 M items (one DUP byte each) into a set.
    let mut p = Pickle::proto(4);
    p.empty_set().mark().int(1);
    p.repeat(2_000_000, |p| {
        p.dup();
    });
    p.additems();
    hits_memory_limit(&mut p, "ADDITEMS");
    // _codecs.encode of a 1 MiB text, 1 000 times.
    let mut p = Pickle::proto(2);
    p.str(&"b".repeat(1 << 20)).put(1).pop();
    p.repeat(1_000, |p| {
        p.global("_codecs", "encode")
            .get(1)
            .str("latin1")
            .tuple_n(2)
            .reduce()
            .pop();
    });
    hits_memory_limit(&mut p, "_codecs.encode");
}

#[test]
fn long_dict_keys_are_compared_in_constant_time() {
    // 16 distinct 256 KiB keys (str, and class names built by GLOBAL), re-inserted 50 000
    // times into one dict: each insert compared (or formatted) all 16 keys before.
    for global in [false, true] {
        let mut p = Pickle::proto(2);
        // A class name may have at most 64 KiB.
        let long = "k".repeat(if global { 60 << 10 } else { 256 << 10 });
        for k in 0..16u32 {
            if global {
                p.global(&long, &format!("K{k}"));
            } else {
                p.str(&format!("{long}{k}"));
            }
            p.put(10 + k).pop();
        }
        p.empty_dict().mark();
        for i in 0..50_000u32 {
            p.get(10 + i % 16).int(i as i64);
        }
        p.setitems();
        let t = within(Duration::from_secs(10), "50 000 inserts", || {
            load(&p.stop(), &Limits::default()).unwrap()
        });
        let Some(Node::Dict(d)) = t.node_of(&t.root) else {
            panic!("not a dict")
        };
        // Same key object, same entry: the last value of each of the 16 keys wins.
        assert_eq!(d.len(), 16);
        assert_eq!(d.entries[0].1, Value::Int(49_984));
    }
    // Short keys still follow Python: 1, 1.0 and True are one key.
    let mut p = Pickle::proto(2);
    p.empty_dict()
        .mark()
        .int(1)
        .str("a")
        .float(1.0)
        .str("b")
        .bool(true)
        .str("c");
    p.setitems();
    let t = load(&p.stop(), &Limits::default()).unwrap();
    let Some(Node::Dict(d)) = t.node_of(&t.root) else {
        panic!("not a dict")
    };
    assert_eq!(d.entries, vec![(Value::Int(1), Value::Str("c".into()))]);
}

#[test]
fn a_text_line_arriving_byte_by_byte_is_scanned_once() {
    // A 2 MB `V` line fed one byte at a time: rescanning it per byte is 2·10^12 steps.
    let mut p = Pickle::proto(2);
    p.op(b'V').raw("x".repeat(2_000_000).as_bytes()).raw(b"\n");
    // Two lines too (GLOBAL: module, then name, each under the 64 KiB a name may have),
    // the first complete early.
    p.op(b'c')
        .raw("m".repeat(60_000).as_bytes())
        .raw(b"\n")
        .raw("n".repeat(60_000).as_bytes())
        .raw(b"\n")
        .tuple_n(2);
    let bytes = p.stop();
    let limits = Limits::default();
    let (whole, _) = pt::pickle::load(&bytes, &limits, 0).unwrap();
    let t = within(Duration::from_secs(20), "1-byte feed", || {
        let mut m = pt::pickle::Machine::new(&limits, 0);
        let mut pending: Vec<u8> = Vec::new();
        for b in &bytes {
            pending.push(*b);
            match m.run(&pending, false).unwrap() {
                pt::pickle::Progress::Done { .. } => break,
                pt::pickle::Progress::NeedMore { consumed } => {
                    pending.drain(..consumed);
                }
            }
        }
        m.finish().unwrap()
    });
    assert_eq!(
        pt::walk::repr(&t, &t.root, 100),
        pt::walk::repr(&whole, &whole.root, 100)
    );
    let Some(Node::Tuple(items)) = t.node_of(&t.root) else {
        panic!("not a tuple")
    };
    assert!(matches!(&items[0], Value::Str(s) if s.len() == 2_000_000));
    assert!(matches!(&items[1], Value::Global(g) if g.len() == 120_001));
}

#[test]
fn a_line_longer_than_the_memory_left_is_refused_before_it_ends() {
    let limits = Limits {
        max_memory: 1 << 20,
        ..Limits::default()
    };
    let mut p = Pickle::proto(2);
    p.op(b'V').raw(&vec![b'x'; 2 << 20]);
    let bytes = p.bytes.clone();
    // No newline yet: a streamed reader would hold the line; it is refused instead.
    let mut m = pt::pickle::Machine::new(&limits, 0);
    let e = m.run(&bytes, false).unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (2, PickleErrorKind::MemoryLimit(1 << 20))
    );
}
