//! Colours made once each into what a canvas takes: the page hands a colour to the canvas
//! thousands of times a frame, and converting its text every time (a JS string decoded from
//! UTF-8) cost more than the drawing.

use std::collections::HashMap;

/// Colours kept by an [`Inks`] (one per name and theme: a file of many names has thousands);
/// past this it starts over, so no file can grow it without bound.
pub const INKS: usize = 4096;

/// Colour texts with the value each was made into, in the order first asked for, and where
/// each text is.
#[derive(Debug, Clone)]
pub struct Inks<T> {
    made: Vec<(String, T)>,
    at: HashMap<String, usize>,
}

impl<T> Default for Inks<T> {
    fn default() -> Inks<T> {
        Inks {
            made: Vec::new(),
            at: HashMap::new(),
        }
    }
}

impl<T> Inks<T> {
    /// Where `color` is kept, made by `make` the first time it is asked for (or again after
    /// [`INKS`] other colours). One hash lookup; no allocation once made.
    pub fn find(&mut self, color: &str, make: impl FnOnce(&str) -> T) -> usize {
        if let Some(&i) = self.at.get(color) {
            return i;
        }
        if self.made.len() >= INKS {
            self.made.clear();
            self.at.clear();
        }
        let i = self.made.len();
        self.made.push((color.to_string(), make(color)));
        self.at.insert(color.to_string(), i);
        i
    }

    /// The colour kept at `i` (from [`Inks::find`]) and what it was made into.
    pub fn at(&self, i: usize) -> Option<(&str, &T)> {
        self.made.get(i).map(|(c, v)| (c.as_str(), v))
    }

    /// How many colours are kept.
    pub fn len(&self) -> usize {
        self.made.len()
    }

    pub fn is_empty(&self) -> bool {
        self.made.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{Inks, INKS};

    #[test]
    fn a_colour_is_made_once_and_reused() {
        let mut inks = Inks::default();
        let mut made = Vec::new();
        for c in ["#ff0000", "#00ff00", "#ff0000", "#00ff00", "#ff0000"] {
            let i = inks.find(c, |c| {
                made.push(c.to_string());
                c.to_uppercase()
            });
            assert_eq!(inks.at(i), Some((c, &c.to_uppercase())));
        }
        assert_eq!(made, ["#ff0000", "#00ff00"]);
        assert_eq!(inks.len(), 2);
    }

    #[test]
    fn the_kept_colours_are_bounded() {
        let mut inks = Inks::default();
        let mut made = 0;
        for round in 0..2 {
            for i in 0..INKS + 10 {
                let c = format!("#{i:06x}");
                let at = inks.find(&c, |_| {
                    made += 1;
                    i
                });
                assert_eq!(inks.at(at), Some((c.as_str(), &i)), "round {round}");
                assert!(inks.len() <= INKS);
            }
        }
        // Past the bound it starts over: every colour of this cycle is made anew each round.
        assert_eq!(made, 2 * (INKS + 10));
    }
}
