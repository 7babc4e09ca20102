//! Prints what a dump's value tree is made of: `cargo run --release -p pt --example census FILE`.
fn main() {
    let path = std::env::args().nth(1).expect("usage: census FILE");
    let bytes = std::fs::read(&path).expect("read");
    let dump = pt::read(&bytes, &pt::Limits::for_timeline()).expect("parse");
    let mut kinds = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for n in &dump.tree.nodes {
        let (k, items) = match n {
            pt::Node::List(v) => ("list", v.len()),
            pt::Node::ElidedList { .. } => ("elided", 0),
            pt::Node::Tuple(v) => ("tuple", v.len()),
            pt::Node::Dict(d) => ("dict", d.len()),
            pt::Node::Set(v) | pt::Node::FrozenSet(v) => ("set", v.len()),
            pt::Node::Object(_) => ("object", 0),
            pt::Node::Persistent(_) => ("persistent", 0),
        };
        let e = kinds.entry(k).or_default();
        e.0 += 1;
        e.1 += items;
    }
    println!(
        "nodes: {} (Node is {} bytes, Value {})",
        dump.tree.nodes.len(),
        std::mem::size_of::<pt::Node>(),
        std::mem::size_of::<pt::Value>()
    );
    for (k, (n, items)) in kinds {
        println!("{k:>10}: {n} nodes, {items} items");
    }
}
