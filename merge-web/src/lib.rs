//! The `merge/` crate for the browser: `wasm-bindgen` exports that the web dashboard's history
//! pages (`server/static/history.js`) call, so the browser merges and diffs with exactly the
//! engine's code. Built by `scripts/build-web-merge.sh` into `merge-web/pkg/` (an ES module and
//! its `.wasm`), which the server embeds and serves under `/static/merge/`.
//!
//! Each export returns one JSON string (parsed by the caller): plain data, no JS classes to
//! free, and the shapes below are the whole interface.
//!
//! * `merge3(base, local, remote)` →
//!   `{"clean":bool,"text":string|null,"conflicts":n,"hunks":[H…]}`; `text` is the engine's
//!   result (`null` when the engine would keep both versions);
//! * `merge2(local, remote)` → the same shape for two texts without a known base (`text` is
//!   the common text only when they are equal);
//! * `diff(old, new)` → `{"lines":[{"op":"="|"-"|"+","old":n|null,"new":n|null,"text":s}…],
//!   "added":n,"removed":n}` (line numbers 1-based, `text` with its terminator).
//!
//! A hunk `H` is `{"kind":"same","text":s}` or
//! `{"kind":"conflict","base":s,"local":s,"remote":s}`: the page shows each conflict with a
//! choice (this side, the other, both) and an editable result.

use serde_json::{Value, json};
use verstak_sync_merge::{Hunk, diff_lines, merge2_hunks, merge3, merge3_hunks};
use wasm_bindgen::prelude::wasm_bindgen;

fn hunks_json(text: Option<String>, hunks: &[Hunk]) -> String {
    let list: Vec<Value> = hunks
        .iter()
        .map(|h| match h {
            Hunk::Resolved(t) => json!({"kind": "same", "text": t}),
            Hunk::Conflict {
                base,
                local,
                remote,
            } => json!({"kind": "conflict", "base": base, "local": local, "remote": remote}),
        })
        .collect();
    let conflicts = list.iter().filter(|h| h["kind"] == "conflict").count();
    json!({"clean": text.is_some(), "text": text, "conflicts": conflicts, "hunks": list})
        .to_string()
}

/// The three-way merge (see the module doc for the JSON).
#[wasm_bindgen(js_name = merge3)]
pub fn merge3_json(base: &str, local: &str, remote: &str) -> String {
    hunks_json(
        merge3(base, local, remote),
        &merge3_hunks(base, local, remote),
    )
}

/// The two-way merge of texts without a known common base.
#[wasm_bindgen(js_name = merge2)]
pub fn merge2_json(local: &str, remote: &str) -> String {
    let text = (local == remote).then(|| local.to_string());
    hunks_json(text, &merge2_hunks(local, remote))
}

/// The line diff from `old` to `new`.
#[wasm_bindgen(js_name = diff)]
pub fn diff_json(old: &str, new: &str) -> String {
    let d = diff_lines(old, new);
    let lines: Vec<Value> = d
        .iter()
        .map(|l| json!({"op": l.op.sign().to_string(), "old": l.old, "new": l.new, "text": l.text}))
        .collect();
    let count = |c: &str| lines.iter().filter(|l| l["op"] == c).count();
    json!({"added": count("+"), "removed": count("-"), "lines": lines}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: String) -> Value {
        serde_json::from_str(&s).unwrap()
    }

    #[test]
    fn merge_json_shapes() {
        let clean = parse(merge3_json("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n"));
        assert_eq!(
            clean,
            json!({"clean": true, "text": "A\nb\nC\n", "conflicts": 0,
                   "hunks": [{"kind": "same", "text": "A\nb\nC\n"}]})
        );
        let conflict = parse(merge3_json("a\n", "L\n", "R\n"));
        assert_eq!(conflict["clean"], false);
        assert_eq!(conflict["text"], Value::Null);
        assert_eq!(conflict["conflicts"], 1);
        assert_eq!(
            conflict["hunks"][0],
            json!({"kind": "conflict", "base": "a\n", "local": "L\n", "remote": "R\n"})
        );
        let two = parse(merge2_json("a\nx\n", "a\ny\n"));
        assert_eq!(
            (two["clean"].clone(), two["conflicts"].clone()),
            (json!(false), json!(1))
        );
        assert_eq!(parse(merge2_json("s", "s"))["text"], "s");
    }

    #[test]
    fn diff_json_counts_and_numbers() {
        let d = parse(diff_json("a\nb\n", "a\nc\nd\n"));
        assert_eq!(
            (d["added"].clone(), d["removed"].clone()),
            (json!(2), json!(1))
        );
        assert_eq!(
            d["lines"][1],
            json!({"op": "-", "old": 2, "new": null, "text": "b\n"})
        );
        assert_eq!(
            d["lines"][2],
            json!({"op": "+", "old": null, "new": 2, "text": "c\n"})
        );
    }
}
