//! Reading `tokenizer.json` with `serde`: only the fields decoding uses (the model's type
//! and vocab, the decoder's type, the added tokens); everything else is skipped by
//! `IgnoredAny` without being kept or recursed into.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
pub(crate) struct File<'a> {
    #[serde(borrow)]
    pub(crate) model: Model<'a>,
    #[serde(default)]
    pub(crate) added_tokens: Added,
    #[serde(default, borrow)]
    pub(crate) decoder: Option<Decoder<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct Model<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) vocab: Option<Vocab>,
}

#[derive(Deserialize)]
pub(crate) struct Decoder<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: Cow<'a, str>,
}

/// Entries and their bytes, as read.
#[derive(Default)]
pub(crate) struct Table {
    pub(crate) entries: Vec<Entry>,
    pub(crate) arena: Vec<u8>,
}

impl Table {
    /// Adds a token whose bytes were just appended to the arena from `start`.
    fn push(&mut self, id: u32, start: usize, special: bool) -> Result<(), String> {
        let len = self.arena.len() - start;
        if len > MAX_TOKEN_BYTES {
            return Err(format!(
                "stands for {len} bytes (at most {MAX_TOKEN_BYTES})"
            ));
        }
        if self.entries.len() >= MAX_IDS {
            return Err(format!("is past the {MAX_IDS} tokens read"));
        }
        let start = u32::try_from(start).map_err(|_| "is past 4 GiB of token text".to_string())?;
        self.entries.push(Entry {
            id,
            start,
            len: len as u16,
            special,
        });
        Ok(())
    }
}

/// `model.vocab`: an object of token → id, or what it was instead (refused after the model
/// type is checked, so that a Unigram model's list is called an unsupported model).
pub(crate) enum Vocab {
    Map(Table),
    Not(&'static str),
}

impl<'de> Deserialize<'de> for Vocab {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(VocabVisitor)
    }
}

pub(crate) struct VocabVisitor;

impl<'de> Visitor<'de> for VocabVisitor {
    type Value = Vocab;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object mapping tokens to ids")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vocab, A::Error> {
        let mut table = Table::default();
        while let Some(Text(token)) = map.next_key()? {
            // Checked as it is read, so that the error's position is the id's.
            let id = map.next_value_seed(VocabId(&token))?;
            let start = table.arena.len();
            push_byte_level(&token, &mut table.arena);
            table.push(id, start, false).map_err(|e| {
                de::Error::custom(format!("model.vocab: token {} {e}", shown(&token)))
            })?;
        }
        Ok(Vocab::Map(table))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vocab, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Vocab::Not("a list"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vocab, E> {
        Ok(Vocab::Not("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vocab, E> {
        Ok(Vocab::Not("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vocab, E> {
        Ok(Vocab::Not("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vocab, E> {
        Ok(Vocab::Not("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vocab, E> {
        Ok(Vocab::Not("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vocab, E> {
        Ok(Vocab::Not("null"))
    }
}

/// A vocab id, checked where it is read; the token it belongs to is for the message.
pub(crate) struct VocabId<'t>(&'t str);

impl<'de> de::DeserializeSeed<'de> for VocabId<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        Number::deserialize(d)?
            .to_id()
            .map_err(|e| de::Error::custom(format!("model.vocab: {e} (token {})", shown(self.0))))
    }
}

/// `added_tokens`: a list of `{id, content, special}`.
#[derive(Default)]
pub(crate) struct Added(pub(crate) Table);

/// One entry of `added_tokens` (`single_word`, `lstrip`… only matter to encoding).
pub(crate) struct AddedToken<'a> {
    pub(crate) id: Number,
    pub(crate) content: Text<'a>,
    pub(crate) special: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for AddedToken<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = AddedToken<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an added token {id, content}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AddedToken<'a>, A::Error> {
                let (mut id, mut content, mut special) = (None, None, false);
                while let Some(Text(key)) = map.next_key()? {
                    match &*key {
                        "id" => id = Some(map.next_value::<Number>()?),
                        "content" => content = Some(map.next_value::<Text<'a>>()?),
                        "special" => special = map.next_value::<bool>()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                match (id, content) {
                    (Some(id), Some(content)) => Ok(AddedToken {
                        id,
                        content,
                        special,
                    }),
                    (None, _) => Err(de::Error::custom("added_tokens: an entry has no id")),
                    (_, None) => Err(de::Error::custom("added_tokens: an entry has no content")),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<AddedToken<'a>, A::Error> {
                Err(de::Error::custom(
                    "added_tokens: an entry is a list, not an object {id, content}",
                ))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Added {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Added;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("added_tokens as a list of {id, content}")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Added, E> {
                Ok(Added::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Added, A::Error> {
                let mut table = Table::default();
                while let Some(t) = seq.next_element::<AddedToken>()? {
                    let id = t.id.to_id().map_err(|e| {
                        de::Error::custom(format!(
                            "added_tokens: {e} (token {})",
                            shown(&t.content.0)
                        ))
                    })?;
                    let start = table.arena.len();
                    table.arena.extend_from_slice(t.content.0.as_bytes());
                    table.push(id, start, t.special).map_err(|e| {
                        de::Error::custom(format!(
                            "added_tokens: token {} {e}",
                            shown(&t.content.0)
                        ))
                    })?;
                }
                Ok(Added(table))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON string, borrowed from the file when it has no escapes.
pub(crate) struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a token string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A JSON number, checked as an id by [`Number::to_id`] where the token is known.
pub(crate) enum Number {
    Unsigned(u64),
    Negative(i64),
    Float(f64),
    /// Not a number: what it was.
    Other(&'static str),
}

impl Number {
    fn to_id(&self) -> Result<u32, String> {
        match *self {
            Number::Unsigned(n) if n < MAX_IDS as u64 => Ok(n as u32),
            Number::Unsigned(n) => Err(format!("id {n} is too large (ids are below {MAX_IDS})")),
            Number::Negative(n) => Err(format!("id {n} is negative")),
            Number::Float(f) if f.abs() < 1e16 => Err(format!("id {f} is not an integer")),
            Number::Float(f) => Err(format!("id {f:e} is not an integer")),
            Number::Other(kind) => Err(format!("id is {kind}, not an integer")),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a token id (an integer)")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Number, E> {
                Ok(Number::Unsigned(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Number, E> {
                Ok(match u64::try_from(n) {
                    Ok(u) => Number::Unsigned(u),
                    Err(_) => Number::Negative(n),
                })
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<Number, E> {
                Ok(Number::Float(f))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Number, E> {
                Ok(Number::Other("a string"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Number, E> {
                Ok(Number::Other("a boolean"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Number, E> {
                Ok(Number::Other("null"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Number, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Number::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Number, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Number::Other("an object"))
            }
        }
        d.deserialize_any(V)
    }
}
