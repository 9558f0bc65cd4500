//! Email (spec §6.5): SMTP settings from `server_smtp_config`, the en/ru templates, links built
//! only from `server_url` or `public_url` (never the request `Host`), and sending with lettre's
//! SMTP client on the blocking pool (10 s connect/IO timeout, 30 s per message).
//!
//! Flows call [`send_link_mail`], which returns at once: the mail goes out in a background
//! task after the response (§8.1(f)); failures are only logged. When SMTP is not configured
//! and `development_token_logging` is on, the link (or the bare token) is logged instead.

use lettre::message::Mailbox;
use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use std::collections::HashMap;
use std::time::Duration;

use crate::state::AppState;
use crate::store::accounts::UserInfo;
use crate::util::ids::random_hex;
use crate::web::i18n::Locale;

/// The stored SMTP settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct SmtpSettings {
    pub host: String,
    pub port: String,
    pub user: String,
    pub pass: String,
    pub security: String,
    pub from: String,
    pub server_url: String,
}

impl SmtpSettings {
    pub(crate) fn from_map(m: &HashMap<String, String>) -> Self {
        let g = |k: &str| m.get(k).cloned().unwrap_or_default();
        SmtpSettings {
            host: g("smtp_host"),
            port: g("smtp_port"),
            user: g("smtp_user"),
            pass: g("smtp_pass"),
            security: g("smtp_security"),
            from: g("smtp_from"),
            server_url: g("server_url"),
        }
    }

    /// Host, port and sender are all set.
    pub(crate) fn configured(&self) -> bool {
        !self.host.is_empty() && !self.port.is_empty() && !self.from.is_empty()
    }
}

/// Why a send failed (logged, never shown in detail).
#[derive(Debug, thiserror::Error)]
pub(crate) enum MailError {
    #[error("invalid address")]
    Address,
    #[error("invalid port")]
    Port,
    #[error("credentials are only sent over TLS or to localhost")]
    PlainCredentials,
    #[error("smtp: {0}")]
    Smtp(String),
    #[error("timed out")]
    Timeout,
}

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Template {
    Confirm,
    Reset,
    Test,
}

/// `(subject, body)` of a template.
pub(crate) fn compose(
    t: Template,
    loc: Locale,
    server: &str,
    username: &str,
    link: &str,
) -> (String, String) {
    let (subject, body) = match (t, loc) {
        (Template::Confirm, Locale::En) => (
            "Verstak — email confirmation",
            "Hello, {username}!\n\nAn account \"{username}\" was created on {server_name} with this email address.\nTo confirm the address and activate the account, open this link within 48 hours:\n\n{link}\n\nIf you did not create this account, ignore this message. The account stays inactive.\n\n— {server_name}\n",
        ),
        (Template::Confirm, Locale::Ru) => (
            "Verstak — подтверждение адреса электронной почты",
            "Здравствуйте, {username}!\n\nНа сервере {server_name} создана учётная запись «{username}» с этим адресом электронной почты.\nЧтобы подтвердить адрес и активировать учётную запись, откройте ссылку в течение 48 часов:\n\n{link}\n\nЕсли вы не создавали эту учётную запись, просто не отвечайте на это письмо. Учётная запись останется неактивной.\n\n— {server_name}\n",
        ),
        (Template::Reset, Locale::En) => (
            "Verstak — password reset",
            "Hello, {username}!\n\nSomeone asked to reset the password of the account \"{username}\" on {server_name}.\nTo choose a new password, open this link within 1 hour:\n\n{link}\n\nIf you did not ask for this, ignore this message. Your password stays unchanged.\nAfter the reset you will be signed out of the web pages; your synced devices stay connected.\n\n— {server_name}\n",
        ),
        (Template::Reset, Locale::Ru) => (
            "Verstak — восстановление пароля",
            "Здравствуйте, {username}!\n\nДля учётной записи «{username}» на сервере {server_name} запрошено восстановление пароля.\nЧтобы задать новый пароль, откройте ссылку в течение 1 часа:\n\n{link}\n\nЕсли вы не запрашивали восстановление, просто не отвечайте на это письмо. Пароль останется прежним.\nПосле смены пароля вход на веб-страницах будет сброшен; синхронизируемые устройства останутся подключёнными.\n\n— {server_name}\n",
        ),
        (Template::Test, Locale::En) => (
            "Verstak — SMTP test",
            "This is a test message from {server_name}. The SMTP settings work.\n",
        ),
        (Template::Test, Locale::Ru) => (
            "Verstak — проверка SMTP",
            "Это тестовое письмо от {server_name}. Настройки SMTP работают.\n",
        ),
    };
    let vars = [
        ("server_name", server),
        ("username", username),
        ("link", link),
    ];
    (subject.to_owned(), fill(body, &vars))
}

/// Replaces `{name}` placeholders in one pass, so values are never re-expanded.
fn fill(tpl: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(tpl.len() + 64);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            vars.iter()
                .find(|(k, _)| *k == &after[..close])
                .map(|(_, v)| (close, v))
        }) {
            Some((close, v)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The link base: `server_url`, else `public_url`, without a trailing `/`; empty if neither.
pub(crate) fn link_base(s: &SmtpSettings, public_url: &str) -> String {
    let b = if s.server_url.trim().is_empty() {
        public_url
    } else {
        s.server_url.trim()
    };
    b.trim_end_matches('/').to_owned()
}

fn is_local(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
}

/// Builds one message with the headers of §6.5: `From`, `To`, `Subject` (lettre encodes it per
/// RFC 2047 when needed), `Date`, `Message-ID`, `MIME-Version: 1.0`, `Content-Type: text/plain;
/// charset=UTF-8`, and a transfer encoding lettre picks as safe for the body (7bit,
/// quoted-printable or base64). lettre adds `MIME-Version` only to multipart bodies, so it is set
/// here.
fn message(from: &str, to: &str, subject: &str, body: &str) -> Result<Message, MailError> {
    let valid =
        |a: &str| crate::useradd::normalize_email(a).is_some_and(|n| n == a.trim().to_lowercase());
    if !valid(from) || !valid(to) {
        return Err(MailError::Address);
    }
    let from_mb: Mailbox = from.trim().parse().map_err(|_| MailError::Address)?;
    let to_mb: Mailbox = to.trim().parse().map_err(|_| MailError::Address)?;
    let domain = from.rsplit('@').next().unwrap_or("localhost");
    Message::builder()
        .from(from_mb)
        .to(to_mb)
        .subject(subject)
        .message_id(Some(format!("<{}@{}>", random_hex(16), domain)))
        .header(MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| MailError::Smtp(e.to_string()))
}

/// Sends one message synchronously (call on the blocking pool).
pub(crate) fn send_blocking(
    s: &SmtpSettings,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), MailError> {
    let msg = message(&s.from, to, subject, body)?;
    let port: u16 = s.port.trim().parse().map_err(|_| MailError::Port)?;
    let host = s.host.trim();
    let tls_params =
        || TlsParameters::new(host.to_owned()).map_err(|e| MailError::Smtp(e.to_string()));
    let (tls, encrypted) = match s.security.trim() {
        "tls" => (Tls::Wrapper(tls_params()?), true),
        "starttls" => (Tls::Required(tls_params()?), true),
        _ => (Tls::None, false),
    };
    let mut b = SmtpTransport::builder_dangerous(host)
        .port(port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(10)));
    if !s.user.is_empty() {
        if !encrypted && !is_local(host) {
            return Err(MailError::PlainCredentials);
        }
        b = b
            .credentials(Credentials::new(s.user.clone(), s.pass.clone()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    b.build()
        .send(&msg)
        .map(|_| ())
        .map_err(|e| MailError::Smtp(e.to_string()))
}

/// Sends on the blocking pool, at most 30 s.
pub(crate) async fn send(
    s: SmtpSettings,
    to: String,
    subject: String,
    body: String,
) -> Result<(), MailError> {
    let job = tokio::task::spawn_blocking(move || send_blocking(&s, &to, &subject, &body));
    match tokio::time::timeout(Duration::from_secs(30), job).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(MailError::Smtp(e.to_string())),
        Err(_) => Err(MailError::Timeout),
    }
}

/// Loads the stored settings.
pub(crate) async fn settings(st: &AppState) -> Result<SmtpSettings, crate::store::StoreError> {
    let m = st.db.read(crate::store::smtp::load).await?;
    Ok(SmtpSettings::from_map(&m))
}

/// A link mail can go out: SMTP is configured and a link base is set.
pub(crate) async fn link_mail_possible(st: &AppState) -> Result<bool, crate::store::StoreError> {
    let smtp = settings(st).await?;
    Ok(smtp.configured() && !link_base(&smtp, &st.web_settings().public_url).is_empty())
}

/// Sends a confirmation or reset mail in the background (§6.5 "Who sends mail").
pub(crate) fn send_link_mail(
    st: &AppState,
    t: Template,
    loc: Locale,
    user: UserInfo,
    token: String,
) {
    let st = st.clone();
    tokio::spawn(async move {
        let smtp = match settings(&st).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot load SMTP settings");
                return;
            }
        };
        let web = st.web_settings();
        let base = link_base(&smtp, &web.public_url);
        let link = match t {
            Template::Reset => format!("{base}/reset?token={token}"),
            _ => format!("{base}/api/v1/auth/confirm?token={token}"),
        };
        if !smtp.configured() {
            if t == Template::Confirm {
                // The one trace of a sign-up that no mail will confirm: an admin has to.
                tracing::info!(user = %user.username, "sign-up without SMTP: no confirmation mail sent, the account waits for an administrator");
            }
            if st.config.development_token_logging {
                let shown = if base.is_empty() {
                    token.as_str()
                } else {
                    link.as_str()
                };
                tracing::warn!(kind = ?t, user = %user.username, "development_token_logging: {shown}");
            }
            return;
        }
        if base.is_empty() {
            tracing::error!(kind = ?t, "no server_url or public_url: link email not sent");
            return;
        }
        let (subject, body) = compose(t, loc, &web.server_name, &user.username, &link);
        match send(smtp, user.email.clone(), subject, body).await {
            Ok(()) => tracing::info!(kind = ?t, "mail sent"),
            Err(e) => tracing::error!(kind = ?t, error = %e, "mail send failed"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_links() {
        let (s, b) = compose(
            Template::Confirm,
            Locale::Ru,
            "Srv",
            "bob",
            "https://x/l?token=t",
        );
        assert_eq!(s, "Verstak — подтверждение адреса электронной почты");
        assert!(
            b.starts_with("Здравствуйте, bob!")
                && b.contains("https://x/l?token=t")
                && b.ends_with("— Srv\n")
        );
        let (s, b) = compose(Template::Reset, Locale::En, "Srv", "{link}", "L");
        assert_eq!(s, "Verstak — password reset");
        assert!(b.starts_with("Hello, {link}!"));
        let st = SmtpSettings {
            server_url: "https://a/".into(),
            ..Default::default()
        };
        assert_eq!(link_base(&st, "https://b"), "https://a");
        assert_eq!(
            link_base(&SmtpSettings::default(), "https://b"),
            "https://b"
        );
        assert!(!SmtpSettings::default().configured());
    }

    #[test]
    fn message_carries_the_spec_headers() {
        let (subject, body) = compose(Template::Test, Locale::Ru, "Srv", "", "");
        let msg = message("sync@example.test", "a@example.test", &subject, &body).unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        let head = &raw[..raw.find("\r\n\r\n").unwrap()];
        let has = |h: &str| head.split("\r\n").any(|l| l.eq_ignore_ascii_case(h));
        assert!(has("MIME-Version: 1.0"), "{head}");
        assert!(has("Content-Type: text/plain; charset=utf-8"), "{head}");
        for name in ["From:", "To:", "Subject:", "Date:", "Message-ID:"] {
            assert!(head.contains(name), "{name} missing: {head}");
        }
        assert!(
            head.contains("Content-Transfer-Encoding: base64")
                || head.contains("Content-Transfer-Encoding: quoted-printable"),
            "{head}"
        );
        assert!(matches!(
            message("not an address", "a@example.test", "s", "b"),
            Err(MailError::Address)
        ));
    }
}
