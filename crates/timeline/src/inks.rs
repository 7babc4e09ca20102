//! Colours made once each into what a canvas takes: the page hands a colour to the canvas
//! thousands of times a frame, and converting its text every time (a JS string decoded from
//! UTF-8) cost more than the drawing.

/// Colours kept by an [`Inks`] (one per name and theme: a file of many names has thousands);
/// past this it starts over, so no file can grow it without bound.
pub const INKS: usize = 4096;

/// Slots of the index: twice the colours, so a probe ends soon.
const SLOTS: usize = 2 * INKS;

/// Colour texts with the value each was made into, in the order first asked for, and an
/// open-addressing index of them (FNV-1a of the text, linear probing; `u32::MAX` is empty).
#[derive(Debug, Clone)]
pub struct Inks<T> {
    made: Vec<(String, T)>,
    slots: Vec<u32>,
}

impl<T> Default for Inks<T> {
    fn default() -> Inks<T> {
        Inks {
            made: Vec::new(),
            slots: Vec::new(),
        }
    }
}

impl<T> Inks<T> {
    /// Where `color` is kept, made by `make` the first time it is asked for (or again after
    /// [`INKS`] other colours). One hash and a short probe; no allocation once made.
    pub fn find(&mut self, color: &str, make: impl FnOnce(&str) -> T) -> usize {
        let slot = match self.probe(color) {
            Ok(i) => return i,
            Err(_) if self.made.len() >= INKS || self.slots.is_empty() => {
                self.made.clear();
                self.slots.clear();
                self.slots.resize(SLOTS, u32::MAX);
                self.probe(color).err().unwrap_or(0)
            }
            Err(slot) => slot,
        };
        let i = self.made.len();
        if let Some(s) = self.slots.get_mut(slot) {
            *s = i as u32;
        }
        self.made.push((color.to_string(), make(color)));
        i
    }

    /// `Ok(index)` of `color`, or `Err(slot)`: the empty slot where it would go.
    fn probe(&self, color: &str) -> Result<usize, usize> {
        let mut h = color.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ b as u32).wrapping_mul(0x0100_0193)
        }) as usize;
        // At most INKS of the SLOTS are full: a probe always meets an empty one.
        for _ in 0..self.slots.len() {
            h %= SLOTS;
            match self.slots[h] {
                u32::MAX => return Err(h),
                i if self.made.get(i as usize).is_some_and(|m| m.0 == color) => {
                    return Ok(i as usize)
                }
                _ => h += 1,
            }
        }
        Err(usize::MAX)
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

    #[test]
    fn a_full_set_still_finds_what_it_holds() {
        let mut inks = Inks::default();
        let colour = |i: usize| format!("hsl({i} 50% 50%)");
        for i in 0..INKS {
            assert_eq!(inks.find(&colour(i), |_| i), i);
        }
        // Full: every kept colour is found where it is, none is made again.
        for i in (0..INKS).rev() {
            assert_eq!(inks.find(&colour(i), |_| panic!("made again")), i);
        }
        assert_eq!(inks.len(), INKS);
    }
}
