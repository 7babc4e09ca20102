//! Every real dump in tests/fixtures/slime reads, with the structure slime wrote.

use std::path::PathBuf;

use pt::{Format, Limits, Node, Value};

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pt"))
        .collect();
    v.sort();
    assert!(v.len() >= 10, "expected the slime fixtures, found {v:?}");
    v
}

fn read(path: &PathBuf) -> pt::Dump {
    let bytes = std::fs::read(path).unwrap();
    pt::read(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_fixture_reads_to_a_rollout_dict() {
    for path in fixtures() {
        let dump = read(&path);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        if stem.starts_with("legacy") {
            assert_eq!(dump.format, Format::Legacy, "{stem}");
        } else {
            assert_eq!(
                dump.format,
                Format::Zip {
                    entry: format!("{stem}/data.pkl")
                },
                "{stem}"
            );
        }
        let t = &dump.tree;
        let samples = t.get(&t.root, "samples").expect("samples key");
        let n = t.as_seq(samples).expect("samples is a list").len();
        assert_eq!(n == 0, stem.starts_with("empty"), "{stem}: {n} samples");
        assert!(
            matches!(t.get(&t.root, "rollout_id"), Some(Value::Int(_))),
            "{stem}"
        );
    }
}

#[test]
fn objects_fixture_keeps_classes_enums_tensors_and_arrays() {
    let path = fixtures()
        .into_iter()
        .find(|p| p.ends_with("objects_3.pt"))
        .unwrap();
    let dump = read(&path);
    let t = &dump.tree;
    let samples = t.as_seq(t.get(&t.root, "samples").unwrap()).unwrap();
    let first = &samples[0];
    assert_eq!(t.class_of(first), Some("slime.utils.types.Sample"));
    // The Status enum member became its value.
    assert_eq!(
        t.get(first, "status"),
        Some(&Value::Str("truncated".into()))
    );
    // Nested dataclasses stay objects whose state reads like a dict.
    let spec = t.get(first, "spec_info").unwrap();
    assert_eq!(t.class_of(spec), Some("slime.utils.types.Sample.SpecInfo"));
    assert!(t.as_dict(spec).is_some());
    // Tensors: objects with dtype and shape, storage kept as a persistent reference.
    let mut tensors = 0;
    let mut arrays = 0;
    for node in &t.nodes {
        if let Node::Object(o) = node {
            let d = match t.node_of(&o.state) {
                Some(Node::Dict(d)) => d,
                _ => continue,
            };
            match &*o.class {
                "torch.Tensor" => {
                    tensors += 1;
                    assert!(
                        matches!(d.get_str("dtype"), Some(Value::Str(s)) if !s.is_empty() && &**s != "unknown")
                    );
                    let storage = d.get_str("storage").unwrap();
                    assert!(matches!(t.node_of(storage), Some(Node::Persistent(_))));
                    assert!(t.as_seq(d.get_str("shape").unwrap()).is_some());
                }
                "numpy.ndarray" => {
                    arrays += 1;
                    assert!(t.as_seq(d.get_str("shape").unwrap()).is_some());
                }
                _ => {}
            }
        }
    }
    assert!(
        tensors > 0 && arrays > 0,
        "tensors {tensors}, arrays {arrays}"
    );
}

/// On plain-data pickles our VM and serde-pickle must agree value for value.
#[test]
fn agrees_with_serde_pickle_on_plain_data() {
    let path = fixtures()
        .into_iter()
        .find(|p| p.ends_with("basic_0.pt"))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mut zip = zip_entry(&bytes, "basic_0/data.pkl");
    let theirs: serde_pickle::Value =
        serde_pickle::value_from_slice(&zip, serde_pickle::DeOptions::new()).unwrap();
    let (ours, _) = pt::pickle::load(&zip, &Limits::default(), 0).unwrap();
    assert_eq!(to_serde(&ours, &ours.root), theirs);
    // And the same for a pickle serde-pickle wrote itself.
    zip.clear();
    let v = serde_pickle::Value::Dict(
        [(
            serde_pickle::HashableValue::String("k".into()),
            serde_pickle::Value::List(vec![
                serde_pickle::Value::I64(-5),
                serde_pickle::Value::F64(1.5),
                serde_pickle::Value::None,
                serde_pickle::Value::Bool(true),
                serde_pickle::Value::Bytes(vec![0, 255]),
                serde_pickle::Value::Tuple(vec![serde_pickle::Value::String("é".into())]),
            ]),
        )]
        .into_iter()
        .collect(),
    );
    for proto3 in [false, true] {
        let bytes =
            serde_pickle::value_to_vec(&v, serde_pickle::SerOptions::new().proto_v2().clone())
                .unwrap();
        let bytes = if proto3 {
            serde_pickle::value_to_vec(&v, serde_pickle::SerOptions::new()).unwrap()
        } else {
            bytes
        };
        let (ours, _) = pt::pickle::load(&bytes, &Limits::default(), 0).unwrap();
        assert_eq!(to_serde(&ours, &ours.root), v);
    }
}

fn zip_entry(bytes: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    a.by_name(name).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn to_serde(t: &pt::Tree, v: &Value) -> serde_pickle::Value {
    use serde_pickle::Value as S;
    match v {
        Value::None => S::None,
        Value::Bool(b) => S::Bool(*b),
        Value::Int(i) => S::I64(*i),
        Value::Float(f) => S::F64(*f),
        Value::Str(s) => S::String(s.to_string()),
        Value::Bytes(b) => S::Bytes(b.to_vec()),
        Value::Node(_) => match t.node_of(v).unwrap() {
            Node::List(x) => S::List(x.iter().map(|i| to_serde(t, i)).collect()),
            Node::Tuple(x) => S::Tuple(x.iter().map(|i| to_serde(t, i)).collect()),
            Node::Dict(d) => S::Dict(
                d.entries
                    .iter()
                    .map(|(k, v)| (to_serde(t, k).into_hashable().unwrap(), to_serde(t, v)))
                    .collect(),
            ),
            other => panic!("unexpected node {other:?}"),
        },
        other => panic!("unexpected value {other:?}"),
    }
}
