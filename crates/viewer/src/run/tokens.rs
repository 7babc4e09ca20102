//! The token view: the response token by token (when the run has a tokenizer and the worker
//! filled `pieces`), or one cell per token (without one), coloured by a chosen per-token
//! value, tool-output tokens (loss_mask 0) hatched, a legend with the value range, and a
//! tooltip with the token's id, text (whitespace made visible) and values.
//!
//! For 8 000 tokens: plain spans with an inline background, no signal per token; one
//! `mousemove` handler on the container finds the token by its `data-i`.

use leptos::prelude::*;
use trace::run::SampleDetail;
use wasm_bindgen::JsCast;

use super::token_view::{available_values, is_tool, token_count, visible_ws, Scale, TokenValue};
use crate::numbers::precise as fmt_num;

struct Series {
    detail: SampleDetail,
    values: Vec<(TokenValue, Vec<f32>)>,
}

impl Series {
    fn get(&self, v: TokenValue) -> Option<&[f32]> {
        self.values
            .iter()
            .find(|(k, _)| *k == v)
            .map(|(_, s)| s.as_slice())
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
            s.push_str("\ntool output (loss_mask 0)");
        }
        for (k, vals) in &self.values {
            if let Some(v) = vals.get(i) {
                s.push_str(&format!("\n{}: {}", k.title(), fmt_num(f64::from(*v))));
            }
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
            <span class="tok tok-tool tok-swatch">"  "</span>
            <span class="tok-muted">" tool output"</span>
        </span>
    }
    .into_any()
}

#[component]
pub fn TokenView(detail: SampleDetail) -> impl IntoView {
    let offered = available_values(&detail);
    let n = token_count(&detail);
    let values: Vec<(TokenValue, Vec<f32>)> = offered
        .iter()
        .filter_map(|&v| v.series(&detail).map(|s| (v, s)))
        .collect();
    // Series that do not have one value per token are shown, and said to be off.
    let notes: Vec<String> = values
        .iter()
        .filter(|(_, s)| s.len() != n)
        .map(|(k, s)| format!("{}: {} values for {} tokens", k.title(), s.len(), n))
        .collect();
    let with_pieces = detail.pieces.is_some();
    let data = StoredValue::new(Series { detail, values });
    let choice = RwSignal::new(offered.first().copied());
    let tip = RwSignal::new(None::<(i32, i32, String)>);

    let colours = move || -> Vec<Option<String>> {
        let Some(v) = choice.get() else {
            return vec![None; n];
        };
        data.with_value(|d| {
            let vals = d.get(v).unwrap_or(&[]);
            let scale = Scale::of(vals, v.diverging());
            (0..n)
                .map(|i| scale.and_then(|sc| vals.get(i).and_then(|&x| sc.color(x))))
                .collect()
        })
    };

    let tokens = move || {
        let colours = colours();
        data.with_value(|d| {
            (0..n)
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
        })
    };

    let on_move = move |ev: web_sys::MouseEvent| {
        let i = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("[data-i]").ok().flatten())
            .and_then(|e| e.get_attribute("data-i"))
            .and_then(|s| s.parse::<usize>().ok());
        match i {
            Some(i) => {
                let text = data.with_value(|d| d.tip(i));
                // Near the right edge the tip opens to the left of the pointer (it is at most
                // 340px wide: run-step.css), so that it stays inside the window.
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
                tip.set(Some((left.max(0), ev.client_y() + 16, text)));
            }
            None => tip.set(None),
        }
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
            data-mode=if with_pieces { "text" } else { "strip" }>
            <div class="tok-controls">
                {select}
                {single}
                {move || choice.get().map(|v| legend(v, data.with_value(|d| Scale::of(d.get(v).unwrap_or(&[]), v.diverging()))))}
                <span class="tok-muted">{format!(" {n} tokens")}</span>
            </div>
            {(!notes.is_empty()).then(|| view! { <ul class="tok-notes">{notes.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul> })}
            <div class=if with_pieces { "tok-text" } else { "tok-strip" }
                on:mousemove=on_move on:mouseleave=move |_| tip.set(None)>
                {tokens}
            </div>
            {move || tip.get().map(|(x, y, text)| view! {
                <div class="tok-tip" data-testid="token-tip" style=format!("left:{x}px;top:{y}px")>{text}</div>
            })}
        </div>
    }
}
