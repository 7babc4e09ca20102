//! "Is this a dict?" ([`dict_of`]): the bounded view of dump values that every part of
//! `trace` uses instead of following object → state references itself. ("What does it look
//! like?" is `pt::walk::repr`: one loop, one visited set and one output budget.)
//!
//! A pickle can make an object whose `BUILD` state refers back to itself
//! (`o.__setstate__((o, None))`), or a chain of objects each the dict slot of the next one's
//! `(dict, slots)` state. Following such references must end: [`dict_of`] reads what
//! `Tree::as_dict` reads, also follows such a chain, and gives up after `MAX_STATE_HOPS`
//! objects, never recursing.

use pt::{Dict, Node, NodeId, Tree, Value};

/// How many object → state hops [`dict_of`] follows. Real dumps need one (a `Sample`'s
/// `__dict__`, or the dict slot of a `(dict, slots)` state); more is a crafted chain.
const MAX_STATE_HOPS: usize = 8;

/// A dict, or the dict state of a dataclass-like object (also the dict slot of a
/// `(dict_state, slot_state)` tuple), as `Tree::as_dict` reads it, but ending after
/// `MAX_STATE_HOPS` objects: an object whose state tuple holds itself is not a dict.
pub fn dict_of<'a>(tree: &'a Tree, v: &Value) -> Option<&'a Dict> {
    let mut id = node_id(v)?;
    for _ in 0..MAX_STATE_HOPS {
        match tree.nodes.get(id.0 as usize)? {
            Node::Dict(d) => return Some(d),
            Node::Object(o) => match tree.node_of(&o.state)? {
                Node::Dict(d) => return Some(d),
                Node::Tuple(t) if t.len() == 2 => id = node_id(&t[0])?,
                _ => return None,
            },
            _ => return None,
        }
    }
    None
}

fn node_id(v: &Value) -> Option<NodeId> {
    match v {
        Value::Node(id) => Some(*id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pt::Object;
    use std::rc::Rc;

    fn object(class: &str, state: Value) -> Node {
        Node::Object(Box::new(Object {
            class: Rc::from(class),
            args: Value::None,
            state,
            items: Vec::new(),
            list_items: Vec::new(),
        }))
    }

    #[test]
    fn an_object_whose_state_tuple_holds_itself_is_not_a_dict() {
        // 0: object with state (0, None) — `o.__setstate__((o, None))`.
        let tree = Tree {
            nodes: vec![
                object("m.C", Value::Node(NodeId(1))),
                Node::Tuple(vec![Value::Node(NodeId(0)), Value::None]),
            ]
            .into(),
            root: Value::Node(NodeId(0)),
        };
        assert!(dict_of(&tree, &tree.root).is_none());
    }
}
