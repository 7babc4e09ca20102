//! A sample detail's token ids and tokenizer pieces, moved out of its JSON for the trip from
//! the run worker to the run app (issue 24): a long response has hundreds of thousands of
//! each, which as JSON objects cost the page seconds to read on its main thread. They travel
//! as `Uint32Array` buffers (the columns named in [`TOKEN_COLUMN`] and [`PIECE_COLUMNS`]) and
//! one string, [`PIECE_TEXT`]: every piece's text, concatenated.

use trace::run::{SampleDetail, TokenPiece};

/// The message column of the response's token ids.
pub const TOKEN_COLUMN: &str = "tokens";
/// The message columns of the pieces, in [`PieceColumns`] order: id, start, end (chars in
/// the decoded text), and the byte length of each piece's text.
pub const PIECE_COLUMNS: [&str; 4] = ["piece_ids", "piece_starts", "piece_ends", "piece_lens"];
/// The message property holding every piece's text, concatenated.
pub const PIECE_TEXT: &str = "piece_text";

/// The token ids and pieces of a detail, moved out of it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DetailTokens {
    pub tokens: Vec<u32>,
    pub pieces: Option<PieceColumns>,
}

/// A detail's pieces as columns (see the module doc).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PieceColumns {
    pub columns: [Vec<u32>; 4],
    pub text: String,
}

/// Takes the token ids and pieces out of `d` (leaving them empty and `None`).
pub fn split_tokens(d: &mut SampleDetail) -> DetailTokens {
    let pieces = d.pieces.take().map(|pieces| {
        let mut columns: [Vec<u32>; 4] = Default::default();
        let mut text = String::new();
        // Offsets fit u32: a detail's text is at most a few times `MAX_TEXT_CHARS`.
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        for p in pieces {
            columns[0].push(p.id);
            columns[1].push(n(p.start));
            columns[2].push(n(p.end));
            columns[3].push(n(p.text.len()));
            text.push_str(&p.text);
        }
        PieceColumns { columns, text }
    });
    DetailTokens {
        tokens: std::mem::take(&mut d.tokens),
        pieces,
    }
}

/// Puts the token ids and pieces back. Columns that do not fit together (lengths that
/// differ, texts that do not tile the string at character boundaries) are an error, never a
/// guess.
pub fn join_tokens(d: &mut SampleDetail, t: DetailTokens) -> Result<(), String> {
    d.tokens = t.tokens;
    let Some(PieceColumns { columns, text }) = t.pieces else {
        d.pieces = None;
        return Ok(());
    };
    let [ids, starts, ends, lens] = columns;
    let n = ids.len();
    if [starts.len(), ends.len(), lens.len()]
        .iter()
        .any(|&l| l != n)
    {
        return Err(
            "internal: a sample's token pieces came in columns of different lengths".into(),
        );
    }
    let mut pieces = Vec::with_capacity(n);
    let mut at = 0usize;
    for i in 0..n {
        let end = at.saturating_add(lens[i] as usize);
        let piece_text = text
            .get(at..end)
            .ok_or("internal: a sample's token pieces do not tile their text")?;
        pieces.push(TokenPiece {
            id: ids[i],
            text: piece_text.to_string(),
            start: starts[i] as usize,
            end: ends[i] as usize,
        });
        at = end;
    }
    if at != text.len() {
        return Err("internal: a sample's token pieces do not tile their text".into());
    }
    d.pieces = Some(pieces);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(id: u32, text: &str, start: usize, end: usize) -> TokenPiece {
        TokenPiece {
            id,
            text: text.into(),
            start,
            end,
        }
    }

    #[test]
    fn tokens_and_pieces_round_trip_and_leave_the_json_small() {
        let mut d = SampleDetail {
            response: "héllo".into(),
            tokens: vec![7, 8, 9],
            pieces: Some(vec![
                piece(7, "h", 0, 1),
                piece(8, "", 1, 1),
                piece(9, "éllo", 1, 5),
            ]),
            ..SampleDetail::default()
        };
        let want = d.clone();
        let t = split_tokens(&mut d);
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains("\"start\"") && d.tokens.is_empty() && d.pieces.is_none());
        let mut back: SampleDetail = serde_json::from_str(&json).unwrap();
        join_tokens(&mut back, t).unwrap();
        assert_eq!(back, want);
        // No tokenizer: no pieces, and none come back.
        let mut d = SampleDetail {
            tokens: vec![1],
            ..SampleDetail::default()
        };
        let t = split_tokens(&mut d);
        assert_eq!(t.pieces, None);
        join_tokens(&mut d, t).unwrap();
        assert_eq!((d.tokens, d.pieces), (vec![1], None));
    }

    #[test]
    fn columns_that_do_not_fit_are_refused() {
        let cols = |lens: Vec<u32>, text: &str| DetailTokens {
            tokens: vec![],
            pieces: Some(PieceColumns {
                columns: [vec![1, 2], vec![0, 1], vec![1, 2], lens],
                text: text.into(),
            }),
        };
        let mut d = SampleDetail::default();
        assert!(join_tokens(&mut d, cols(vec![1], "ab"))
            .unwrap_err()
            .contains("different lengths"));
        assert!(join_tokens(&mut d, cols(vec![1, 2], "ab"))
            .unwrap_err()
            .contains("tile"));
        assert!(join_tokens(&mut d, cols(vec![1, 0], "ab"))
            .unwrap_err()
            .contains("tile"));
        // A cut inside a character.
        assert!(join_tokens(&mut d, cols(vec![1, 1], "é"))
            .unwrap_err()
            .contains("tile"));
        join_tokens(&mut d, cols(vec![1, 1], "ab")).unwrap();
        assert_eq!(d.pieces.map(|p| p.len()), Some(2));
    }
}
