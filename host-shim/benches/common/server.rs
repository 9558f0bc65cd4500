//! The sync server as a child process for the benches (`#[path]`-included by each bench that
//! needs one): started on a free port, its URL read from its "listening on" line, killed on drop.
#![allow(dead_code)] // each bench uses part of it

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(bin: &Path, data: &Path) -> anyhow::Result<Server> {
        let mut child = Command::new(bin)
            .arg("--data")
            .arg(data)
            .args(["--port", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let addr = loop {
            let Some(line) = lines.next() else {
                anyhow::bail!("the server exited before it was ready");
            };
            let line = line?;
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap_or("").to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let url = if addr.starts_with("http") {
            addr
        } else {
            format!("http://{addr}")
        };
        Ok(Server { child, url })
    }

    /// SIGTERM and wait: the pull marks are written and the WAL checkpointed.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let pid = libc::pid_t::try_from(self.child.id())?;
        // SAFETY: signals our own child, which has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
