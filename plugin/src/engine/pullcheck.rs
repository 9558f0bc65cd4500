//! Pull page validation (plugin-contract §4.10): which ops of a page to apply, and whether the
//! page is consistent with the cursor.

use verstak_sync_proto::{PullResponse, PulledOp};

use super::error::EngineError;

/// The ops of `page` to apply after `cursor`, in order. Ops at or below the cursor are skipped;
/// the rest must be strictly increasing, and `page_last_sequence` (when present) must equal the
/// last op's sequence.
pub(crate) fn ops_to_apply(
    cursor: i64,
    page: &PullResponse,
) -> Result<Vec<&PulledOp>, EngineError> {
    let mut prev = cursor;
    let mut out = Vec::new();
    for op in &page.ops {
        if op.server_sequence <= cursor {
            continue;
        }
        if op.server_sequence <= prev {
            return Err(EngineError::PullUnordered(op.server_sequence));
        }
        prev = op.server_sequence;
        out.push(op);
    }
    if let Some(last) = page.ops.last() {
        let expected = last.server_sequence.max(cursor);
        if page.page_last_sequence != 0 && page.page_last_sequence != expected {
            return Err(EngineError::PullCursorMismatch);
        }
    }
    Ok(out)
}

/// The cursor after a fully applied page.
pub(crate) fn next_cursor(cursor: i64, page: &PullResponse) -> i64 {
    page.ops
        .iter()
        .map(|o| o.server_sequence)
        .fold(cursor, i64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(seqs: &[i64], last: i64, has_more: bool) -> PullResponse {
        PullResponse {
            has_more,
            ops: seqs
                .iter()
                .map(|s| PulledOp {
                    server_sequence: *s,
                    ..PulledOp::default()
                })
                .collect(),
            page_last_sequence: last,
            server_sequence: 99,
        }
    }

    #[test]
    fn page_table() {
        let cases: Vec<(i64, PullResponse, Result<Vec<i64>, EngineError>)> = vec![
            (0, page(&[1, 2, 5], 5, false), Ok(vec![1, 2, 5])),
            (2, page(&[1, 2, 3], 3, false), Ok(vec![3])),
            (
                0,
                page(&[1, 3, 2], 3, false),
                Err(EngineError::PullUnordered(2)),
            ),
            (
                0,
                page(&[1, 1], 1, false),
                Err(EngineError::PullUnordered(1)),
            ),
            (
                0,
                page(&[1, 2], 3, true),
                Err(EngineError::PullCursorMismatch),
            ),
            (0, page(&[1, 2], 0, false), Ok(vec![1, 2])),
            (4, page(&[], 4, false), Ok(vec![])),
        ];
        for (cursor, pg, want) in cases {
            let got = ops_to_apply(cursor, &pg)
                .map(|v| v.iter().map(|o| o.server_sequence).collect::<Vec<_>>());
            assert_eq!(
                got,
                want,
                "cursor {cursor} page {:?}",
                pg.ops.iter().map(|o| o.server_sequence).collect::<Vec<_>>()
            );
        }
        assert_eq!(next_cursor(3, &page(&[4, 9], 9, false)), 9);
        assert_eq!(next_cursor(3, &page(&[], 3, false)), 3);
    }
}
