//! The vault and history pages of the web dashboard (issue #13; `docs/dashboard.md`):
//!
//! | route | what |
//! |---|---|
//! | `GET /vaults` | the user's vaults |
//! | `GET /vaults/{id}?dir=&q=` | one folder of the vault's live files, or a name search |
//! | `GET /vaults/{id}/file?path=` | the versions of a path (timeline) |
//! | `GET /vaults/{id}/download?path=&version=` | one version's content, as an attachment (the JSON content route's reader) |
//! | `GET /vaults/{id}/deleted` | deleted files that can be restored |
//! | `GET /vaults/{id}/conflicts` | conflict copies with their originals |
//! | `POST /vaults/{id}/restore` | form `csrf_token`, `path`, `version`, `back`: a new version with that content, then 303 back with a notice |
//!
//! Every route needs the user session (302 to `/login` without one); a vault the user has no
//! scope for is the HTML 404, whoever owns it. The pages that run the browser merge send a CSP
//! with `'wasm-unsafe-eval'` (`crate::http::CSP_WASM`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::Response;

use crate::error::ApiError;
use crate::extract::{CsrfForm, UserSession};
use crate::history_ops;
use crate::routes::assets;
use crate::routes::history;
use crate::routes::only;
use crate::state::AppState;
use crate::store::versions::{self, Version};
use crate::web::ctx::WebCtx;
use crate::web::error::WebError;
use crate::web::form::Form;
use crate::web::html::{self, Nav};
use crate::web::i18n;
use crate::web::notice::Notice;
use crate::web::pages::history::{
    self as history_pages, ConflictView, DeletedView, Script, VersionView,
};
use crate::web::pages::vaults::{self as vault_pages, FileRow, VaultRow, clean_dir, file_url};
use crate::web::pages::{self, layout::Ui};

/// How many versions or deleted files a page lists at most.
const PAGE_LIMIT: i64 = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/vaults", only("GET").get(list))
        .route("/vaults/{id}", only("GET").get(browse))
        .route("/vaults/{id}/file", only("GET").get(file))
        .route("/vaults/{id}/download", only("GET").get(download))
        .route("/vaults/{id}/deleted", only("GET").get(deleted))
        .route("/vaults/{id}/conflicts", only("GET").get(conflicts))
        .route("/vaults/{id}/restore", only("POST").post(restore))
}

fn csrf(cx: &WebCtx) -> String {
    cx.cookie("csrf_token").unwrap_or("").to_owned()
}

fn query(uri: &Uri) -> Form {
    Form::parse(uri.query().unwrap_or("").as_bytes())
}

/// The HTML 404 with the signed-in header (an unknown vault, path or version).
fn not_found(cx: WebCtx) -> Response {
    let token = csrf(&cx);
    let ui = Ui::new(&cx, Nav::User(&token), "error.title");
    let p = pages::message::error(&ui, "error.notFound");
    cx.finish(html::no_store(html::html(StatusCode::NOT_FOUND, p)))
}

/// A page response: `no-store`, and the wasm CSP when the page loads the browser merge.
fn page(cx: WebCtx, body: String, wasm: bool) -> Response {
    let mut r = html::no_store(html::html(StatusCode::OK, body));
    if wasm {
        r.headers_mut().insert(
            "content-security-policy",
            HeaderValue::from_static(crate::http::CSP_WASM),
        );
    }
    cx.finish(r)
}

fn view(v: &Version) -> VersionView {
    VersionView {
        path: v.path.clone(),
        version: v.version,
        time: v.time.clone(),
        device_id: v.device_id.clone(),
        device: v.device.clone(),
        size: v.size,
        kind: v.kind,
        renamed_from: v.renamed_from.clone(),
        renamed_to: v.renamed_to.clone(),
    }
}

fn script(token: &str) -> Script<'_> {
    Script {
        merge_module: assets::merge_web_built()
            .then(|| format!("/static/merge/merge_web.js?v={}", assets::MERGE_WEB_TAG)),
        csrf: token,
    }
}

async fn list(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
) -> Result<Response, WebError> {
    let uid = s.subject.clone();
    let rows: Vec<VaultRow> = st
        .db
        .read(move |c| versions::vaults(c, &uid))
        .await?
        .into_iter()
        .map(|v| VaultRow {
            id: v.vault_id,
            files: v.files,
            last_push: v.last_push,
        })
        .collect();
    let token = csrf(&cx);
    let ui = Ui::new(&cx, Nav::User(&token), "vaults.title");
    let p = vault_pages::render_list(&ui, &rows);
    Ok(page(cx, p, false))
}

async fn browse(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, WebError> {
    let Some(scope) = history::vault_scope(&st, &s.subject, id.clone()).await? else {
        return Ok(not_found(cx));
    };
    let q = query(&uri);
    let dir = clean_dir(q.get("dir"));
    let needle: String = q.get("q").trim().chars().take(160).collect();
    let rows: Vec<FileRow> = st
        .db
        .read(move |c| versions::live_files(c, &scope))
        .await?
        .into_iter()
        .map(|v| FileRow {
            path: v.path,
            version: v.version,
            time: v.time,
            size: v.size,
        })
        .collect();
    let token = csrf(&cx);
    let ui = Ui::new(&cx, Nav::User(&token), "vault.title");
    let p = vault_pages::render_browse(&ui, &id, &dir, &needle, &rows);
    Ok(page(cx, p, false))
}

async fn file(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, WebError> {
    let Some(scope) = history::vault_scope(&st, &s.subject, id.clone()).await? else {
        return Ok(not_found(cx));
    };
    let path = query(&uri).get("path").to_owned();
    let p2 = path.clone();
    let list = st
        .db
        .read(move |c| versions::versions(c, &scope, &p2, PAGE_LIMIT))
        .await?;
    if list.is_empty() {
        return Ok(not_found(cx));
    }
    let views: Vec<VersionView> = list.iter().map(view).collect();
    let notice = crate::web::notice::take(&st, &s.token_hash)
        .await
        .map(|n| n.text(cx.loc));
    let token = csrf(&cx);
    let ui = Ui::new(&cx, Nav::User(&token), "file.title");
    let sc = script(&token);
    let wasm = sc.merge_module.is_some();
    let p = history_pages::render_file(&ui, &id, &path, &views, notice, &sc);
    Ok(page(cx, p, wasm))
}

async fn download(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, WebError> {
    let Some(scope) = history::vault_scope(&st, &s.subject, id.clone()).await? else {
        return Ok(not_found(cx));
    };
    // The JSON content route's reader (text inline, blobs streamed); what it cannot find is
    // this page's HTML 404, any other refusal its JSON error.
    match history::content_of(&st, scope, &uri).await {
        Ok(r) => Ok(cx.finish(html::no_store(r))),
        Err(ApiError::NotFound(_) | ApiError::BlobNotFound | ApiError::InvalidRequest(_)) => {
            Ok(not_found(cx))
        }
        Err(e) => Err(e.into()),
    }
}

async fn deleted(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let Some(scope) = history::vault_scope(&st, &s.subject, id.clone()).await? else {
        return Ok(not_found(cx));
    };
    let files: Vec<DeletedView> = st
        .db
        .read(move |c| versions::deleted(c, &scope, PAGE_LIMIT))
        .await?
        .iter()
        .map(|d| DeletedView {
            path: d.path.clone(),
            deletion: view(&d.deletion),
            last: view(&d.last),
        })
        .collect();
    let notice = crate::web::notice::take(&st, &s.token_hash)
        .await
        .map(|n| n.text(cx.loc));
    let token = csrf(&cx);
    let ui = Ui::new(&cx, Nav::User(&token), "deleted.title");
    let p = history_pages::render_deleted(&ui, &id, &files, notice);
    Ok(page(cx, p, false))
}

async fn conflicts(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, WebError> {
    let Some(scope) = history::vault_scope(&st, &s.subject, id.clone()).await? else {
        return Ok(not_found(cx));
    };
    let pairs: Vec<ConflictView> = st
        .db
        .read(move |c| versions::conflicts(c, &scope))
        .await?
        .iter()
        .map(|p| ConflictView {
            original_path: p.original_path.clone(),
            copy: view(&p.copy),
            original: p.original.as_ref().map(view),
            base: p.base.as_ref().map(view),
        })
        .collect();
    let q = query(&uri);
    let flashes: Vec<&str> = ["history.merged"]
        .into_iter()
        .filter(|&k| q.get("flash") == k && i18n::has(k))
        .collect();
    let token = csrf(&cx);
    let ui = Ui::new(&cx, Nav::User(&token), "conflicts.title");
    let sc = script(&token);
    let wasm = sc.merge_module.is_some();
    let p = history_pages::render_conflicts(&ui, &id, &pairs, &flashes, &sc);
    Ok(page(cx, p, wasm))
}

async fn restore(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, WebError> {
    let Some(scope) = history::vault_scope(&st, &s.subject, id.clone()).await? else {
        return Ok(not_found(cx));
    };
    let path = form.get("path").to_owned();
    let back = match form.get("back") {
        "deleted" => vault_pages::vault_url(&id, "/deleted"),
        _ => file_url(&id, &path),
    };
    let Ok(seq) = form.get("version").parse::<i64>() else {
        return Ok(not_found(cx));
    };
    let restored =
        history_ops::restore(&st, scope, history_ops::WEB_DEVICE, path.clone(), seq).await;
    let notice = match restored {
        Ok(done) => Notice::new(
            "history.restored",
            format!(
                "{path} ({} {seq} → {})",
                i18n::t(cx.loc, "file.version").to_lowercase(),
                done.version
            ),
        ),
        Err(e) => Notice::new("history.restoreFailed", e.to_string()),
    };
    crate::web::notice::leave(&st, &s.token_hash, notice).await?;
    Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, &back)))
}
