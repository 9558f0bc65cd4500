//! The wire side of the server's event stream, pure and tested on bytes: a decoder of HTTP/1.1
//! chunked bodies ([`Chunked`]) and a Server-Sent Events parser ([`SseParser`]) that turns
//! lines into events (`event:`, `data:`, `id:` fields, `:` comments, a blank line dispatches).

use std::io::{self, BufRead, Read};

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// `message` when the stream named none.
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

/// Collects fields until a blank line.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    event: String,
    data: Vec<String>,
    id: Option<String>,
    started: bool,
}

impl SseParser {
    /// Feeds one line (without its line ending); returns an event on a blank line.
    pub(crate) fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            if !self.started {
                return None;
            }
            let event = SseEvent {
                event: if self.event.is_empty() {
                    "message".into()
                } else {
                    std::mem::take(&mut self.event)
                },
                data: std::mem::take(&mut self.data).join("\n"),
                id: self.id.take(),
            };
            *self = SseParser::default();
            return Some(event);
        }
        if line.starts_with(':') {
            return None; // a comment: the heartbeat
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        self.started = true;
        match field {
            "event" => self.event = value.to_string(),
            "data" => self.data.push(value.to_string()),
            "id" => self.id = Some(value.to_string()),
            _ => {}
        }
        None
    }
}

/// A chunked (`Transfer-Encoding: chunked`) body as a plain reader.
pub(crate) struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    pub(crate) fn new(inner: R) -> Chunked<R> {
        Chunked {
            inner,
            left: 0,
            done: false,
        }
    }

    fn next_size(&mut self) -> io::Result<u64> {
        let mut line = String::new();
        if self.inner.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let hex = line.trim().split(';').next().unwrap_or("");
        u64::from_str_radix(hex, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let size = self.next_size()?;
            if size == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = size;
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        text.split('\n')
            .filter_map(|l| p.line(l.trim_end_matches('\r')))
            .collect()
    }

    #[test]
    fn events_comments_and_ids() {
        let events = parse(
            ": ping\n\nevent: sequence\nid: 7\ndata: {\"server_sequence\":7,\"device_id\":\"d\"}\n\n: ping\n\nevent: closed\r\ndata: {\"code\":\"device_revoked\"}\r\n\r\n",
        );
        assert_eq!(
            events,
            [
                SseEvent {
                    event: "sequence".into(),
                    data: "{\"server_sequence\":7,\"device_id\":\"d\"}".into(),
                    id: Some("7".into())
                },
                SseEvent {
                    event: "closed".into(),
                    data: "{\"code\":\"device_revoked\"}".into(),
                    id: None
                }
            ]
        );
    }

    #[test]
    fn multi_line_data_and_default_name() {
        assert_eq!(
            parse("data: a\ndata:b\n\n"),
            [SseEvent {
                event: "message".into(),
                data: "a\nb".into(),
                id: None
            }]
        );
    }

    #[test]
    fn chunked_bodies_decode_across_chunk_borders() {
        let body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        let mut out = String::new();
        Chunked::new(&body[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello, world");
        let mut cut = String::new();
        assert!(
            Chunked::new(&b"5\r\nhel"[..])
                .read_to_string(&mut cut)
                .is_err(),
            "a cut stream is an error, not an end"
        );
    }
}
