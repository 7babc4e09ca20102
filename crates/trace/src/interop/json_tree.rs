//! JSON → pickle value tree, so JSON-born dumps (OTLP imports) go through the row builder.

use std::rc::Rc;

use pt::{Dict, Node, NodeId, Tree, Value};
use serde_json::Value as J;

/// A JSON value as a pickle value tree, so JSON-born dumps go through the same row builder.
/// Iterative: deep JSON cannot overflow the stack.
pub fn json_to_tree(v: &J) -> Tree {
    let mut b = TreeBuilder::default();
    let root = b.add(v);
    b.finish(root)
}

/// Builds a value tree piece by piece: a value added once can be named from many places
/// (cloning a [`Value`] copies a pointer or a node id, never the value), as a pickle's memo
/// does. The OTLP import names each resource's fields from every trace of that resource.
#[derive(Default)]
pub(super) struct TreeBuilder {
    nodes: Vec<Node>,
}

impl TreeBuilder {
    /// Adds a JSON value, iteratively.
    pub fn add(&mut self, v: &J) -> Value {
        let mut work: Vec<(&J, usize)> = Vec::new();
        let root = self.value_of(v, &mut work);
        while let Some((v, id)) = work.pop() {
            self.nodes[id] = match v {
                J::Array(items) => {
                    Node::List(items.iter().map(|c| self.value_of(c, &mut work)).collect())
                }
                J::Object(m) => {
                    let mut d = Dict::default();
                    for (k, c) in m {
                        let val = self.value_of(c, &mut work);
                        d.insert(Value::Str(Rc::from(k.as_str())), val);
                    }
                    Node::Dict(d)
                }
                _ => continue,
            };
        }
        root
    }

    /// A list of values already added.
    pub fn list(&mut self, items: Vec<Value>) -> Value {
        self.node(Node::List(items))
    }

    /// A dict with string keys of values already added.
    pub fn dict(&mut self, pairs: Vec<(&str, Value)>) -> Value {
        let mut d = Dict::default();
        for (k, v) in pairs {
            d.insert(Value::Str(Rc::from(k)), v);
        }
        self.node(Node::Dict(d))
    }

    pub fn finish(self, root: Value) -> Tree {
        Tree {
            nodes: self.nodes.into(),
            root,
        }
    }

    fn node(&mut self, n: Node) -> Value {
        self.nodes.push(n);
        Value::Node(NodeId((self.nodes.len() - 1) as u32))
    }

    /// A scalar as a value, or a new (empty) container queued to be filled.
    fn value_of<'a>(&mut self, v: &'a J, work: &mut Vec<(&'a J, usize)>) -> Value {
        match v {
            J::Null => Value::None,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(Rc::from(s.as_str())),
            J::Array(_) | J::Object(_) => {
                let at = self.nodes.len();
                work.push((v, at));
                self.node(Node::List(Vec::new()))
            }
        }
    }
}
