//! Bounds the multipart part headers of a blob upload (spec §4.9, framing).
//!
//! multer buffers everything up to the blank line that ends a part's headers, without a
//! limit of its own, so one huge header line would sit in memory whole. [`PartHeaderGate`]
//! wraps the request body: while the handler waits for the next part ([`HeaderGate::next_field`]),
//! the gate hands multer at most [`fixed::PART_HEADER`] bytes (splitting a chunk if needed).
//! When multer has them all and still wants more, the gate fails the stream, which multer
//! reports as broken framing: 400 `invalid_multipart`, long before the rest of the body.
//! While a part's body is read, bytes pass through unbounded (the size limits of §4.9 apply).
//!
//! Multer may still find the header end in what it already holds, so the first time the
//! budget runs out the gate answers `Pending` and wakes itself at once; only if multer then
//! asks again, still inside the headers, does the gate fail.

use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use verstak_sync_proto::limits::fixed;

/// The state shared by the handler (which says when headers are being read) and the body.
#[derive(Default)]
struct Budget {
    in_headers: AtomicBool,
    used: AtomicUsize,
    stalled: AtomicBool,
}

/// The handler's side: marks the header phases.
#[derive(Clone, Default)]
pub(crate) struct HeaderGate(Arc<Budget>);

impl HeaderGate {
    /// Wraps the request body so header phases are bounded.
    pub(crate) fn wrap<S>(&self, body: S) -> PartHeaderGate<S> {
        PartHeaderGate {
            inner: body,
            held: None,
            budget: self.0.clone(),
            limit: fixed::PART_HEADER,
        }
    }

    /// Runs `fut` (a `next_field` call) as a header phase with a fresh budget.
    pub(crate) async fn next_field<T>(&self, fut: impl Future<Output = T>) -> T {
        self.0.used.store(0, SeqCst);
        self.0.stalled.store(false, SeqCst);
        self.0.in_headers.store(true, SeqCst);
        let out = fut.await;
        self.0.in_headers.store(false, SeqCst);
        out
    }
}

/// The body side: a stream of chunks that stops a header phase at its budget.
pub(crate) struct PartHeaderGate<S> {
    inner: S,
    /// The rest of a chunk split at the budget, handed out next.
    held: Option<Bytes>,
    budget: Arc<Budget>,
    limit: usize,
}

/// The error a header phase over budget ends the stream with.
fn too_large() -> std::io::Error {
    std::io::Error::other("multipart part header too large")
}

impl<S, E> Stream for PartHeaderGate<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let b = &this.budget;
        let in_headers = b.in_headers.load(SeqCst);
        let left = this.limit.saturating_sub(b.used.load(SeqCst));
        if in_headers && left == 0 {
            if b.stalled.swap(true, SeqCst) {
                return Poll::Ready(Some(Err(too_large())));
            }
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut chunk = match this.held.take() {
            Some(c) => c,
            None => match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(c))) => c,
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Some(Err(std::io::Error::other(e))));
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            },
        };
        if in_headers {
            if chunk.len() > left {
                this.held = Some(chunk.split_off(left));
            }
            b.used.fetch_add(chunk.len(), SeqCst);
        }
        Poll::Ready(Some(Ok(chunk)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    /// A multipart body whose first part header is `header_len` bytes of `X-Pad`.
    fn body(header_len: usize) -> Vec<Bytes> {
        let head = format!(
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\nX-Pad: {}\r\n\r\n",
            "p".repeat(header_len)
        );
        vec![Bytes::from(head), Bytes::from_static(b"data\r\n--b--\r\n")]
    }

    async fn first_part(chunks: Vec<Bytes>) -> Result<Vec<u8>, multer::Error> {
        let gate = HeaderGate::default();
        let s = gate.wrap(stream::iter(
            chunks.into_iter().map(Ok::<_, std::io::Error>),
        ));
        let mut mp = multer::Multipart::new(s, "b");
        let field = gate.next_field(mp.next_field()).await?.expect("a part");
        Ok(field.bytes().await?.to_vec())
    }

    #[tokio::test]
    async fn small_headers_pass_and_the_body_is_not_cut() {
        // One chunk holding headers and body, larger than the budget.
        let mut one = body(100)[0].to_vec();
        one.extend(std::iter::repeat_n(b'd', 20_000));
        one.extend_from_slice(b"\r\n--b--\r\n");
        let data = first_part(vec![Bytes::from(one)]).await.unwrap();
        assert_eq!(data, vec![b'd'; 20_000]);
        assert_eq!(first_part(body(100)).await.unwrap(), b"data");
    }

    #[tokio::test]
    async fn a_header_over_the_budget_fails_the_stream() {
        let err = first_part(body(fixed::PART_HEADER)).await.unwrap_err();
        assert!(matches!(err, multer::Error::StreamReadFailed(_)), "{err:?}");
    }
}
