//! A small keep-alive HTTP/1.1 client for the load generator (responses always carry
//! `Content-Length` on this server).

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Conn {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    host: String,
}

impl Conn {
    pub async fn connect(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        let (r, w) = s.into_split();
        Conn {
            r: BufReader::with_capacity(256 * 1024, r),
            w,
            host: addr.to_owned(),
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, Vec<u8>) {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut buf = head.into_bytes();
        buf.extend_from_slice(&body);
        self.w.write_all(&buf).await.expect("write");
        self.read_response().await
    }

    pub async fn authed(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> (u16, Vec<u8>) {
        let auth = format!("Bearer {token}");
        self.request(method, path, &[("Authorization", &auth)], body)
            .await
    }

    /// Uploads `blob` as multipart; returns the server's sha256.
    pub async fn upload(&mut self, token: &str, blob: &[u8]) -> String {
        let b = "LoadgenBoundary0123";
        let mut body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(blob);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        let auth = format!("Bearer {token}");
        let ct = format!("multipart/form-data; boundary={b}");
        let (st, resp) = self
            .request(
                "POST",
                verstak_sync_proto::paths::BLOBS,
                &[("Authorization", &auth), ("Content-Type", &ct)],
                body,
            )
            .await;
        assert_eq!(st, 200, "{}", String::from_utf8_lossy(&resp));
        let v: verstak_sync_proto::BlobUploadResponse =
            serde_json::from_slice(&resp).expect("upload response");
        v.sha256
    }

    async fn read_response(&mut self) -> (u16, Vec<u8>) {
        let mut line = String::new();
        self.r.read_line(&mut line).await.expect("status line");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line).await.expect("header");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().expect("content-length");
            }
        }
        let mut body = vec![0u8; len];
        self.r.read_exact(&mut body).await.expect("body");
        (status, body)
    }
}
