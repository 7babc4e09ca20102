//! The token view: the prompt's tokens in their own style, then the response token by token
//! (when the run has a tokenizer and the worker filled `pieces`), or one cell per token
//! (without one), coloured by a chosen per-token value, tokens the loss mask leaves out
//! (loss_mask 0: tool output) hatched and counted, a legend with the value range, and a
//! tooltip with the token's id, text (whitespace made visible) and values.
//!
//! Drawn in bounded work whatever the length (`token_view.rs` decides): text in pages of
//! [`TEXT_PAGE`] tokens with "show more", cells up to [`MAX_STRIP_CELLS`], and beyond that a
//! summary strip of [`SUMMARY_COLUMNS`] columns, each shaded from its tokens' max through
//! mean to min. Plain spans with an inline background, no signal per token; one `mousemove`
//! handler on the container finds the token by its `data-i` (a summary column by `data-b`).

use leptos::prelude::*;
use trace::run::SampleDetail;
use wasm_bindgen::JsCast;

use super::token_view::{
    available_values, is_tool, masked_count, prompt_count, prompt_shown, summarize, text_shown,
    token_count, visible_ws, Bucket, Layout, Scale, TokenValue, MAX_STRIP_CELLS, SUMMARY_COLUMNS,
    TEXT_PAGE,
};
use crate::numbers::precise as fmt_num;

/// The sample and its per-token values: read in place from the detail (a long series is
/// never copied), only the log-prob gap computed.
struct Series {
    detail: SampleDetail,
    offered: Vec<TokenValue>,
    gap: Option<Vec<f32>>,
}

impl Series {
    fn get(&self, v: TokenValue) -> Option<&[f32]> {
        match v {
            TokenValue::LogProbGap => self.gap.as_deref(),
            _ => v.slice(&self.detail),
        }
    }

    /// The tooltip's text for a summary column.
    fn bucket_tip(&self, b: &Bucket, value: Option<TokenValue>) -> String {
        let mut s = format!(
            "tokens {}–{} ({} tokens)",
            b.start,
            b.end - 1,
            b.end - b.start
        );
        if b.tool > 0 {
            s.push_str(&format!(
                "\n{} masked (loss_mask 0: not trained on)",
                b.tool
            ));
        }
        if let Some(v) = value {
            match b.stats {
                Some((lo, mean, hi)) => s.push_str(&format!(
                    "\n{}: min {} · mean {} · max {}",
                    v.title(),
                    fmt_num(f64::from(lo)),
                    fmt_num(f64::from(mean)),
                    fmt_num(f64::from(hi))
                )),
                None => s.push_str(&format!("\n{}: no finite values", v.title())),
            }
        }
        s
    }

    /// The tooltip's text for token `i`.
    fn tip(&self, i: usize) -> String {
        let d = &self.detail;
        let mut s = format!("token {i}");
        let id = d
            .pieces
            .as_ref()
            .and_then(|p| p.get(i))
            .map(|p| p.id)
            .or_else(|| d.tokens.get(i).copied());
        if let Some(id) = id {
            s.push_str(&format!(" · id {id}"));
        }
        if let Some(p) = d.pieces.as_ref().and_then(|p| p.get(i)) {
            s.push_str(&format!("\n\"{}\"", visible_ws(&p.text)));
        }
        if is_tool(d, i) {
            s.push_str("\nmasked: loss_mask 0, not trained on (tool output)");
        }
        for &k in &self.offered {
            if let Some(v) = self.get(k).and_then(|vals| vals.get(i)) {
                s.push_str(&format!("\n{}: {}", k.title(), fmt_num(f64::from(*v))));
            }
        }
        s
    }

    /// The tooltip's text for prompt token `i`.
    fn prompt_tip(&self, i: usize) -> String {
        let d = &self.detail;
        let mut s = format!("prompt token {i}");
        if let Some(id) = d.prompt_tokens.get(i) {
            s.push_str(&format!(" · id {id}"));
        }
        if let Some(p) = d.prompt_pieces.as_ref().and_then(|p| p.get(i)) {
            s.push_str(&format!("\n\"{}\"", visible_ws(&p.text)));
        }
        s
    }
}

/// A token's text with newlines shown as a faint ↵ before the line break.
fn token_text(text: &str) -> AnyView {
    if text.is_empty() {
        return ().into_any();
    }
    if !text.contains('\n') {
        return text.to_string().into_any();
    }
    let mut parts = Vec::new();
    for (k, line) in text.split('\n').enumerate() {
        if k > 0 {
            parts.push(view! { <span class="tok-nl">"↵"</span>"\n" }.into_any());
        }
        if !line.is_empty() {
            parts.push(line.to_string().into_any());
        }
    }
    parts.into_iter().collect_view().into_any()
}

fn legend(value: TokenValue, scale: Option<Scale>) -> AnyView {
    let Some(sc) = scale else {
        return view! { <span class="tok-muted">"no finite values"</span> }.into_any();
    };
    let (lo, hi, ramp) = if sc.diverging {
        let m = sc.min.abs().max(sc.max.abs());
        (
            -m,
            m,
            "linear-gradient(to right, hsla(0,85%,50%,.75), transparent, hsla(215,85%,50%,.75))",
        )
    } else {
        (
            sc.min,
            sc.max,
            "linear-gradient(to right, hsla(0,85%,50%,.75), transparent)",
        )
    };
    view! {
        <span class="tok-legend" data-testid="token-legend" data-value=value.key()>
            <span class="tok-num">{fmt_num(f64::from(lo))}</span>
            <span class="tok-ramp" style=format!("background:{ramp}")></span>
            <span class="tok-num">{fmt_num(f64::from(hi))}</span>
            // A two-sided scale is centred on 0: say where the values really are.
            {sc.diverging.then(|| view! { <span class="tok-muted">{format!(" (values {} … {})", fmt_num(f64::from(sc.min)), fmt_num(f64::from(sc.max)))}</span> })}
        </span>
    }
    .into_any()
}

/// The loss mask's key: a hatched swatch and how many tokens it leaves out of training.
fn mask_legend(masked: Option<usize>, n: usize) -> AnyView {
    let Some(k) = masked else {
        return view! { <span class="tok-muted" data-testid="token-mask">"no loss mask"</span> }
            .into_any();
    };
    view! {
        <span class="tok-legend" data-testid="token-mask" data-masked=k.to_string()>
            <span class="tok tok-tool tok-swatch">"  "</span>
            <span class="tok-muted">{format!(" loss_mask 0: {k} of {n} tokens not trained on (tool output)")}</span>
        </span>
    }
    .into_any()
}

/// Prompt tokens `range` as text spans in the prompt's style (`data-p`: the tooltip's index).
fn prompt_spans(d: &SampleDetail, range: std::ops::Range<usize>) -> AnyView {
    let Some(pieces) = d.prompt_pieces.as_ref() else {
        return ().into_any();
    };
    pieces
        .get(range.clone())
        .unwrap_or(&[])
        .iter()
        .zip(range)
        .map(|(p, i)| {
            let class = if p.text.is_empty() {
                "tok tok-prompt tok-empty"
            } else {
                "tok tok-prompt"
            };
            view! { <span class=class data-p=i.to_string()>{token_text(&p.text)}</span> }
        })
        .collect_view()
        .into_any()
}

/// The prompt before the response: its decoded tokens (a long prompt's two ends, the middle
/// said), or, without a tokenizer, how many ids it has.
fn prompt_part(d: &SampleDetail) -> AnyView {
    let n = prompt_count(d);
    if n == 0 {
        return ().into_any();
    }
    if d.prompt_pieces.is_none() {
        return view! {
            <p class="tok-muted" data-testid="token-prompt" data-prompt-count=n.to_string()>
                {format!("prompt: {n} tokens (not decoded: no tokenizer)")}
            </p>
        }
        .into_any();
    }
    let (head, tail) = prompt_shown(n);
    let skipped = tail.start - head.end;
    view! {
        <span class="tok-prompt-part" data-testid="token-prompt" data-prompt-count=n.to_string()>
            {prompt_spans(d, head.clone())}
            {(skipped > 0).then(|| view! { <span class="tok-muted tok-skip">{format!("\n… {skipped} prompt tokens not shown …\n")}</span> })}
            {prompt_spans(d, tail)}
        </span>
    }
    .into_any()
}

/// The colour of each of the first `upto` tokens for value `v`.
fn colours(d: &Series, v: Option<TokenValue>, upto: usize) -> Vec<Option<String>> {
    let Some(v) = v else {
        return vec![None; upto];
    };
    let vals = d.get(v).unwrap_or(&[]);
    let scale = Scale::of(vals, v.diverging());
    (0..upto)
        .map(|i| scale.and_then(|sc| vals.get(i).and_then(|&x| sc.color(x))))
        .collect()
}

/// The summary strip: one column per bucket, shaded from its max (top) through its mean to
/// its min (bottom); mostly tool output is hatched.
fn summary_columns(bs: &[Bucket], scale: Option<Scale>) -> AnyView {
    let colour = |x: f32| {
        scale
            .and_then(|sc| sc.color(x))
            .unwrap_or_else(|| "transparent".into())
    };
    bs.iter()
        .enumerate()
        .map(|(k, b)| {
            let style = b.stats.map_or_else(String::new, |(lo, mean, hi)| {
                let [c0, c1, c2] = [hi, mean, lo].map(colour);
                format!("background:linear-gradient(to bottom,{c0},{c1},{c2})")
            });
            let class = if b.tool * 2 > b.end - b.start {
                "tok-col tok-tool"
            } else {
                "tok-col"
            };
            view! { <span class=class data-b=k.to_string() style=style></span> }
        })
        .collect_view()
        .into_any()
}

/// The first `upto` tokens as spans: text (with a tokenizer) or cells, coloured by `v`.
fn token_spans(d: &Series, v: Option<TokenValue>, upto: usize, with_pieces: bool) -> AnyView {
    let colours = colours(d, v, upto);
    (0..upto)
        .map(|i| {
            let mut class = String::from(if with_pieces { "tok" } else { "tok tok-cell" });
            if is_tool(&d.detail, i) {
                class.push_str(" tok-tool");
            }
            let text = d
                .detail
                .pieces
                .as_ref()
                .and_then(|p| p.get(i))
                .map(|p| p.text.as_str())
                .unwrap_or("");
            if with_pieces && text.is_empty() {
                class.push_str(" tok-empty");
            }
            let style = colours[i]
                .as_ref()
                .map(|c| format!("background-color:{c}"))
                .unwrap_or_default();
            let body = if with_pieces {
                token_text(text)
            } else {
                ().into_any()
            };
            view! { <span class=class data-i=i.to_string() style=style>{body}</span> }
        })
        .collect_view()
        .into_any()
}

/// The tooltip's text for what the pointer is over: a token (`data-i`) or a summary column
/// (`data-b`).
fn tip_text(
    ev: &web_sys::MouseEvent,
    token: impl Fn(usize) -> String,
    prompt: impl Fn(usize) -> String,
    column: impl Fn(usize) -> Option<String>,
) -> Option<String> {
    let el = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())?;
    let index = |attr: &str| {
        el.closest(&format!("[{attr}]"))
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute(attr))
            .and_then(|s| s.parse::<usize>().ok())
    };
    if let Some(i) = index("data-i") {
        Some(token(i))
    } else if let Some(i) = index("data-p") {
        Some(prompt(i))
    } else {
        index("data-b").and_then(column)
    }
}

/// Where the tooltip goes: near the right edge it opens to the left of the pointer (it is at
/// most 340px wide: run-step.css), so that it stays inside the window.
fn tip_place(ev: &web_sys::MouseEvent, text: String) -> (i32, i32, String) {
    let width = web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .unwrap_or(f64::MAX);
    let x = ev.client_x();
    let left = if f64::from(x) + 360.0 > width {
        x - 360
    } else {
        x + 14
    };
    (left.max(0), ev.client_y() + 16, text)
}

#[component]
pub fn TokenView(detail: SampleDetail) -> impl IntoView {
    let offered = available_values(&detail);
    let n = token_count(&detail);
    // Series that do not have one value per token are shown, and said to be off.
    let notes: Vec<String> = offered
        .iter()
        .filter_map(|&k| Some((k, k.len(&detail)?)))
        .filter(|&(_, len)| len != n)
        .map(|(k, len)| format!("{}: {len} values for {n} tokens", k.title()))
        .collect();
    let with_pieces = detail.pieces.is_some();
    let masked = masked_count(&detail, n);
    let has_prompt = prompt_count(&detail) > 0;
    let layout = Layout::of(n, with_pieces);
    // The prompt goes before the response's text in the same box; before a strip, in its own.
    let prompt = prompt_part(&detail);
    let (prompt_inline, prompt_above) = match layout {
        Layout::Text => (Some(prompt), None),
        _ if detail.prompt_pieces.is_some() => (
            None,
            Some(view! { <div class="tok-text tok-prompt-box">{prompt}</div> }.into_any()),
        ),
        _ => (None, Some(prompt)),
    };
    let gap = offered
        .contains(&TokenValue::LogProbGap)
        .then(|| TokenValue::LogProbGap.series(&detail))
        .flatten();
    let data = StoredValue::new(Series {
        detail,
        offered: offered.clone(),
        gap,
    });
    let choice = RwSignal::new(offered.first().copied());
    let tip = RwSignal::new(None::<(i32, i32, String)>);

    // Text pages shown so far (text layout only; cells are few, a summary is bounded).
    let pages = RwSignal::new(1usize);
    let shown = move || match layout {
        Layout::Text => text_shown(n, pages.get()),
        Layout::Cells => n.min(MAX_STRIP_CELLS),
        Layout::Summary => 0,
    };
    // The summary's columns for the chosen value (recomputed only when the choice changes).
    let buckets = Memo::new(move |_| {
        if layout != Layout::Summary {
            return Vec::new();
        }
        let v = choice.get();
        data.with_value(|d| {
            let vals = v.and_then(|v| d.get(v)).unwrap_or(&[]);
            summarize(vals, n, SUMMARY_COLUMNS, |i| is_tool(&d.detail, i))
        })
    });

    let summary = move || {
        let v = choice.get();
        let scale =
            data.with_value(|d| v.and_then(|v| Scale::of(d.get(v).unwrap_or(&[]), v.diverging())));
        buckets.with(|bs| summary_columns(bs, scale))
    };
    let tokens = move || {
        let upto = shown();
        let v = choice.get();
        data.with_value(|d| token_spans(d, v, upto, with_pieces))
    };

    let more = move || {
        let upto = shown();
        (layout == Layout::Text && upto < n).then(|| {
            let next = (n - upto).min(TEXT_PAGE);
            view! {
                <button class="tok-more" data-testid="token-more" on:click=move |_| pages.update(|p| *p += 1)>
                    {format!("show {next} more tokens ({upto} of {n} shown)")}
                </button>
            }
        })
    };

    let on_move = move |ev: web_sys::MouseEvent| {
        let text = tip_text(
            &ev,
            |i| data.with_value(|d| d.tip(i)),
            |i| data.with_value(|d| d.prompt_tip(i)),
            |k| {
                let v = choice.get_untracked();
                buckets
                    .with_untracked(|bs| bs.get(k).map(|b| data.with_value(|d| d.bucket_tip(b, v))))
            },
        );
        tip.set(text.map(|text| tip_place(&ev, text)));
    };

    let select = (offered.len() > 1).then(|| {
        view! {
            <label>"colour by "
                <select data-testid="token-value" on:change=move |ev| choice.set(TokenValue::from_key(&event_target_value(&ev)))>
                    // `prop:selected`: the inspector may patch this select in place for the next sample,
                    // whose view starts again at the first value.
                    {offered.iter().map(|&v| view! { <option value=v.key() prop:selected=move || choice.get() == Some(v)>{v.title()}</option> }).collect_view()}
                </select>
            </label>
        }
    });
    let single = (offered.len() == 1).then(|| {
        view! { <span class="tok-muted">{format!("colour: {}", offered[0].title())}</span> }
    });

    view! {
        <div class="tok-view" data-testid="sample-tokens" data-token-count=n.to_string()
            data-mode=match layout { Layout::Text => "text", Layout::Cells => "strip", Layout::Summary => "summary" }>
            <div class="tok-controls">
                {select}
                {single}
                {move || choice.get().map(|v| legend(v, data.with_value(|d| Scale::of(d.get(v).unwrap_or(&[]), v.diverging()))))}
                {mask_legend(masked, n)}
                <span class="tok-muted">{format!(" {n} tokens")}</span>
                {has_prompt.then(|| view! {
                    <span class="tok tok-prompt tok-swatch">"  "</span>
                    <span class="tok-muted">" prompt"</span>
                })}
            </div>
            {(!notes.is_empty()).then(|| view! { <ul class="tok-notes">{notes.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul> })}
            {(layout == Layout::Summary).then(|| view! {
                <p class="tok-muted" data-testid="token-summary">{format!(
                    "{n} tokens: too many to draw one by one; each column stands for about {} tokens (shaded from max through mean to min, hover for the numbers)",
                    n.div_ceil(SUMMARY_COLUMNS)
                )}</p>
            })}
            {prompt_above.map(|p| view! { <div on:mousemove=on_move on:mouseleave=move |_| tip.set(None)>{p}</div> })}
            <div class=match layout { Layout::Text => "tok-text", Layout::Cells => "tok-strip", Layout::Summary => "tok-strip tok-summary" }
                on:mousemove=on_move on:mouseleave=move |_| tip.set(None)>
                {prompt_inline}
                {move || if layout == Layout::Summary { summary().into_any() } else { tokens().into_any() }}
            </div>
            {more}
            {move || tip.get().map(|(x, y, text)| view! {
                <div class="tok-tip" data-testid="token-tip" style=format!("left:{x}px;top:{y}px")>{text}</div>
            })}
        </div>
    }
}
