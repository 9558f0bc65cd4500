//! A tiny SMTP sink for tests: a std `TcpListener` on 127.0.0.1 speaking enough SMTP (EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre to deliver to it, capturing each message.
//! [`Sink::wait`] polls with a deadline; [`Mail`] decodes the subject (RFC 2047) and the body
//! (quoted-printable or base64) so tests can read links.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub raw: String,
}

pub struct Sink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl Sink {
    pub fn start() -> Sink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let m = mails.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { break };
                let m = m.clone();
                std::thread::spawn(move || {
                    let _ = session(conn, &m);
                });
            }
        });
        Sink { port, mails }
    }

    /// Waits (10 s deadline) until at least `n` messages arrived; returns message `n - 1`.
    pub fn wait(&self, n: usize) -> Mail {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Some(m) = self.mails.lock().unwrap().get(n - 1) {
                return m.clone();
            }
            std::thread::park_timeout(Duration::from_millis(20));
        }
        panic!("no mail #{n} within 10 s");
    }

    pub fn count(&self) -> usize {
        self.mails.lock().unwrap().len()
    }
}

fn session(conn: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    w.write_all(b"220 sink ESMTP ready\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            w.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            w.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = addr(&cmd[10..]);
            w.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(addr(&cmd[8..]));
            w.write_all(b"250 ok\r\n")?;
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            mails.lock().unwrap().push(Mail {
                from: from.clone(),
                to: std::mem::take(&mut to),
                raw: data,
            });
            w.write_all(b"250 queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            w.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            w.write_all(b"502 not implemented\r\n")?;
        }
    }
}

fn addr(s: &str) -> String {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or("");
    s.trim_start_matches('<').trim_end_matches('>').to_owned()
}

impl Mail {
    fn split(&self) -> (&str, &str) {
        match self.raw.find("\r\n\r\n") {
            Some(i) => (&self.raw[..i], &self.raw[i + 4..]),
            None => (&self.raw, ""),
        }
    }

    /// A header value with folded lines joined.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The headers every mail carries (spec §6.5 "Message format").
    pub fn assert_spec_headers(&self) {
        assert_eq!(
            self.header("MIME-Version").as_deref(),
            Some("1.0"),
            "{}",
            self.raw
        );
        let ctype = self.header("Content-Type").unwrap_or_default();
        assert!(
            ctype.eq_ignore_ascii_case("text/plain; charset=utf-8"),
            "{ctype}"
        );
        for name in ["From", "To", "Subject", "Date", "Message-ID"] {
            assert!(self.header(name).is_some(), "{name} missing: {}", self.raw);
        }
        let cte = self.header("Content-Transfer-Encoding").unwrap_or_default();
        assert!(
            ["7bit", "quoted-printable", "base64"].contains(&cte.to_ascii_lowercase().as_str()),
            "{cte}"
        );
    }

    /// The subject, RFC 2047 decoded.
    pub fn subject(&self) -> String {
        decode_words(&self.header("Subject").unwrap_or_default())
    }

    /// The body, transfer-decoded.
    pub fn body(&self) -> String {
        let (_, body) = self.split();
        let enc = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let bytes = match enc.as_str() {
            "base64" => b64(&body.replace(['\r', '\n'], "")),
            "quoted-printable" => qp(body),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }

    /// The first `http…` link in the body.
    pub fn link(&self) -> String {
        let body = self.body();
        let start = body.find("http").expect("a link in the mail");
        body[start..].split_whitespace().next().unwrap().to_owned()
    }
}

fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut prev_encoded = false;
    for part in s.split_whitespace() {
        let dec = part
            .strip_prefix("=?")
            .and_then(|p| p.strip_suffix("?="))
            .and_then(|p| {
                let mut it = p.splitn(3, '?');
                let (_cs, enc, text) = (it.next()?, it.next()?, it.next()?);
                Some(match enc.to_ascii_lowercase().as_str() {
                    "b" => String::from_utf8_lossy(&b64(text)).into_owned(),
                    _ => String::from_utf8_lossy(&qp(&text.replace('_', " "))).into_owned(),
                })
            });
        // Whitespace between two encoded words is dropped (RFC 2047 §6.2), kept otherwise.
        if !(out.is_empty() || prev_encoded && dec.is_some()) {
            out.push(' ');
        }
        prev_encoded = dec.is_some();
        out.push_str(dec.as_deref().unwrap_or(part));
    }
    out
}

fn b64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let Some(v) = val(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn qp(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}
