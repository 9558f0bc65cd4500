//! A blocking Server-Sent Events client over a plain `TcpStream` for the event stream tests:
//! sends one GET, reads the head, then decodes the chunked body incrementally into SSE frames.
//! Reads poll with a deadline; nothing sleeps.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::http::{Resp, parse_head};

/// One SSE message: a block of lines ended by a blank line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
    /// The text of a comment line (`: ping` gives `"ping"`).
    pub comment: Option<String>,
}

impl Frame {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("data not JSON ({e}): {self:?}"))
    }

    pub fn is_ping(&self) -> bool {
        self.comment.as_deref() == Some("ping") && self.event.is_none()
    }
}

#[derive(Debug)]
pub struct Sse {
    stream: TcpStream,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Raw bytes read but not yet de-chunked.
    raw: Vec<u8>,
    /// De-chunked body text not yet split into frames.
    text: String,
    /// The terminating zero-size chunk has arrived.
    pub ended: bool,
}

/// Opens `GET path` with `headers`. A non-200 answer is read to its end and returned as `Err`.
pub fn open(addr: &str, path: &str, headers: &[(&str, &str)]) -> Result<Sse, Resp> {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut raw = Vec::new();
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        assert!(Instant::now() < deadline, "no response head");
        read_some(&mut s, &mut raw);
    };
    let (status, headers) = parse_head(&raw[..split]);
    let rest = raw[split + 4..].to_vec();
    if status != 200 {
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = rest;
        while body.len() < len {
            assert!(Instant::now() < deadline, "short error body");
            read_some(&mut s, &mut body);
        }
        return Err(Resp {
            status,
            headers,
            body,
        });
    }
    Ok(Sse {
        stream: s,
        status,
        headers,
        raw: rest,
        text: String::new(),
        ended: false,
    })
}

/// Reads what is there (up to the socket's short timeout) into `buf`; false at EOF.
fn read_some(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match s.read(&mut chunk) {
        Ok(0) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            true
        }
        Err(_) => false,
    }
}

impl Sse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next frame within `wait`, or `None` (timeout, or the stream ended).
    pub fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = Instant::now() + wait;
        loop {
            self.dechunk();
            if let Some(f) = self.take_frame() {
                return Some(f);
            }
            if self.ended || Instant::now() >= deadline {
                return None;
            }
            if !read_some(&mut self.stream, &mut self.raw) {
                self.dechunk();
                return self.take_frame();
            }
        }
    }

    /// The next frame that is not a heartbeat, within `wait`.
    pub fn next_event(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(f) if f.is_ping() => continue,
                other => return other,
            }
        }
    }

    /// Whether the body ends (its last chunk arrives) within `wait`, with no frame left over.
    pub fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while !self.ended && Instant::now() < deadline {
            if !read_some(&mut self.stream, &mut self.raw) {
                break;
            }
            self.dechunk();
        }
        self.dechunk();
        self.ended && self.text.is_empty()
    }

    fn dechunk(&mut self) {
        while !self.ended {
            let Some(pos) = self.raw.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let line = String::from_utf8_lossy(&self.raw[..pos]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap().trim(), 16)
                .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
            if size == 0 {
                self.ended = true;
                self.raw.clear();
                return;
            }
            if self.raw.len() < pos + 2 + size + 2 {
                return;
            }
            let data = self.raw[pos + 2..pos + 2 + size].to_vec();
            self.text.push_str(std::str::from_utf8(&data).unwrap());
            self.raw.drain(..pos + 2 + size + 2);
        }
    }

    fn take_frame(&mut self) -> Option<Frame> {
        let end = self.text.find("\n\n")?;
        let block: String = self.text.drain(..end + 2).collect();
        let mut f = Frame::default();
        let mut data: Vec<&str> = Vec::new();
        for line in block.lines().filter(|l| !l.is_empty()) {
            if let Some(c) = line.strip_prefix(':') {
                f.comment = Some(c.trim_start().to_owned());
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => f.event = Some(value.to_owned()),
                "id" => f.id = Some(value.to_owned()),
                "data" => data.push(value),
                other => panic!("unexpected field {other:?} in {block:?}"),
            }
        }
        f.data = data.join("\n");
        Some(f)
    }
}
