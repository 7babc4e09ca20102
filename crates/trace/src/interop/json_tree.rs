//! JSON → pickle value tree, so JSON-born dumps (OTLP imports) go through the row builder.

use serde_json::Value as J;

/// A JSON value as a pickle value tree, so JSON-born dumps go through the same row builder.
/// Iterative: deep JSON cannot overflow the stack.
pub fn json_to_tree(v: &J) -> pt::Tree {
    use pt::{Dict, Node, NodeId, Tree, Value};
    use std::rc::Rc;

    /// A scalar as a value, or a new (empty) container queued to be filled.
    fn value_of<'a>(v: &'a J, nodes: &mut Vec<Node>, work: &mut Vec<(&'a J, usize)>) -> Value {
        match v {
            J::Null => Value::None,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(Rc::from(s.as_str())),
            J::Array(_) | J::Object(_) => {
                nodes.push(Node::List(Vec::new()));
                work.push((v, nodes.len() - 1));
                Value::Node(NodeId((nodes.len() - 1) as u32))
            }
        }
    }

    let mut nodes: Vec<Node> = Vec::new();
    let mut work: Vec<(&J, usize)> = Vec::new();
    let root = value_of(v, &mut nodes, &mut work);
    while let Some((v, id)) = work.pop() {
        nodes[id] = match v {
            J::Array(items) => Node::List(
                items
                    .iter()
                    .map(|c| value_of(c, &mut nodes, &mut work))
                    .collect(),
            ),
            J::Object(m) => {
                let mut d = Dict::default();
                for (k, c) in m {
                    let val = value_of(c, &mut nodes, &mut work);
                    d.insert(Value::Str(Rc::from(k.as_str())), val);
                }
                Node::Dict(d)
            }
            _ => continue,
        };
    }
    Tree { nodes, root }
}
