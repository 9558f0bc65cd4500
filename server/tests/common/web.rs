//! A minimal browser for tests: a cookie jar (paths ignored; use one `Browser` per role) on
//! top of the raw HTTP client, form posts, and logins for users and admins.

use super::{Resp, TestServer};

pub struct Browser<'a> {
    pub s: &'a TestServer,
    pub jar: Vec<(String, String)>,
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl<'a> Browser<'a> {
    pub fn new(s: &'a TestServer) -> Self {
        Browser { s, jar: Vec::new() }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, r: &Resp) {
        for (k, v) in &r.headers {
            if k != "set-cookie" {
                continue;
            }
            let first = v.split(';').next().unwrap_or("");
            let Some((name, val)) = first.split_once('=') else {
                continue;
            };
            self.jar.retain(|(n, _)| n != name);
            if !v.contains("Max-Age=-1") && !val.is_empty() {
                self.jar.push((name.to_owned(), val.to_owned()));
            }
        }
    }

    /// A request with the jar's cookies plus `headers`.
    pub fn req(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let c = self.cookie_header();
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if !c.is_empty() {
            h.push(("Cookie", &c));
        }
        let r = self.s.req(method, path, &h, body);
        self.absorb(&r);
        r
    }

    pub fn get(&mut self, path: &str) -> Resp {
        self.req("GET", path, &[], b"")
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_body(fields);
        self.req(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    /// The public-form CSRF value, fetching `/login` first when the cookie is missing.
    pub fn locale_csrf(&mut self) -> String {
        if self.cookie("verstak_locale_csrf").is_none() {
            self.get("/login");
        }
        self.cookie("verstak_locale_csrf")
            .expect("locale csrf cookie")
    }

    /// Posts a public form with `locale_csrf` added.
    pub fn post_public(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let t = self.locale_csrf();
        let mut f = fields.to_vec();
        f.push(("locale_csrf", &t));
        self.post_form(path, &f)
    }

    pub fn csrf(&self) -> String {
        self.cookie("csrf_token").expect("csrf_token cookie")
    }

    /// A session-authenticated mutation with `X-CSRF-Token`.
    pub fn mutate(&mut self, method: &str, path: &str, ctype: &str, body: &[u8]) -> Resp {
        let t = self.csrf();
        let mut h = vec![("X-CSRF-Token", t.as_str())];
        if !ctype.is_empty() {
            h.push(("Content-Type", ctype));
        }
        self.req(method, path, &h, body)
    }
}

pub fn user_login<'a>(s: &'a TestServer, login: &str, pw: &str) -> Browser<'a> {
    let mut b = Browser::new(s);
    let r = b.post_public("/login", &[("username", login), ("password", pw)]);
    assert_eq!(r.status, 303, "login failed: {}", r.text());
    assert_eq!(r.header("location"), Some("/dashboard"));
    b
}

pub fn admin_login<'a>(s: &'a TestServer, user: &str, pw: &str) -> Browser<'a> {
    let mut b = Browser::new(s);
    let r = b.post_public("/admin/login", &[("username", user), ("password", pw)]);
    assert_eq!(r.status, 303, "admin login failed: {}", r.text());
    b
}
