//! The vault pages (issue #13): `/vaults` (`templates/vaults/list.html`: the signed-in user's
//! vaults with their file counts and last change) and `/vaults/{id}?dir=&q=`
//! (`templates/vaults/browse.html`: the live files as a folder tree, one folder at a time with
//! breadcrumbs, or the files under it whose name contains `q`). Each file links to its history.
//!
//! The tree is computed here from the sorted live paths ([`listing`]); the store only lists the
//! files.

use askama::Template;

use super::layout::Ui;
use crate::web::escape::qenc;

/// Percent-encodes one path segment (a vault id in `/vaults/{id}`): everything but
/// `A-Z a-z 0-9 - . _ ~`.
pub(crate) fn penc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/vaults/{id}` plus `rest` (which starts with `/` or `?`, or is empty).
pub(crate) fn vault_url(vault_id: &str, rest: &str) -> String {
    format!("/vaults/{}{rest}", penc(vault_id))
}

/// The history page of `path`.
pub(crate) fn file_url(vault_id: &str, path: &str) -> String {
    vault_url(vault_id, &format!("/file?path={}", qenc(path)))
}

/// One vault of the list.
pub(crate) struct VaultRow {
    pub id: String,
    pub files: i64,
    /// When the vault last received an op (RFC 3339), `""` if never.
    pub last_push: String,
}

#[derive(Template)]
#[template(path = "vaults/list.html")]
struct List<'a> {
    ui: &'a Ui<'a>,
    vaults: Vec<ListRow<'a>>,
}

struct ListRow<'a> {
    id: &'a str,
    url: String,
    files: String,
    last: String,
}

pub(crate) fn render_list(ui: &Ui<'_>, rows: &[VaultRow]) -> String {
    let vaults = rows
        .iter()
        .map(|v| ListRow {
            id: &v.id,
            url: vault_url(&v.id, ""),
            files: ui.count(&v.files),
            last: ui.date(&v.last_push),
        })
        .collect();
    super::render(&List { ui, vaults })
}

/// A live file for the browser.
pub(crate) struct FileRow {
    pub path: String,
    pub version: i64,
    pub time: String,
    pub size: Option<i64>,
}

/// A folder shown in a listing: its name, full path and how many files are below it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Folder {
    pub name: String,
    pub path: String,
    pub files: usize,
}

/// What one folder view shows: the sub-folders of `dir` and the indexes (into the given paths)
/// of the files in it; with a query, no folders and every file below `dir` whose name contains
/// the query, ignoring case.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Listing {
    pub folders: Vec<Folder>,
    pub files: Vec<usize>,
}

/// `dir` as a folder path: no leading, trailing or doubled `/` (`""` is the vault's root).
pub(crate) fn clean_dir(dir: &str) -> String {
    dir.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The listing of folder `dir` (as [`clean_dir`] makes it) over `paths`.
pub(crate) fn listing(paths: &[&str], dir: &str, query: &str) -> Listing {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let needle = query.to_lowercase();
    let mut folders: Vec<Folder> = Vec::new();
    let mut files = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let Some(rest) = p.strip_prefix(&prefix) else {
            continue;
        };
        if !needle.is_empty() {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            if name.to_lowercase().contains(&needle) {
                files.push(i);
            }
            continue;
        }
        match rest.split_once('/') {
            None => files.push(i),
            Some((sub, _)) => match folders.iter_mut().find(|f| f.name == sub) {
                Some(f) => f.files += 1,
                None => folders.push(Folder {
                    name: sub.to_string(),
                    path: format!("{prefix}{sub}"),
                    files: 1,
                }),
            },
        }
    }
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    Listing { folders, files }
}

#[derive(Template)]
#[template(path = "vaults/browse.html")]
struct Browse<'a> {
    ui: &'a Ui<'a>,
    vault_id: &'a str,
    base: String,
    dir: &'a str,
    q: &'a str,
    crumbs: Vec<Link>,
    folders: Vec<FolderLink>,
    files: Vec<FileLink<'a>>,
    deleted_url: String,
    conflicts_url: String,
    no_match: String,
}

pub(crate) struct Link {
    pub label: String,
    pub url: String,
}

struct FolderLink {
    name: String,
    url: String,
    files: String,
}

struct FileLink<'a> {
    /// The path below the folder shown (the whole path for a search below the root).
    shown: &'a str,
    url: String,
    version: i64,
    time: String,
    size: String,
}

/// The folder view of vault `vault_id`: `dir` already cleaned, `q` the name filter.
pub(crate) fn render_browse(
    ui: &Ui<'_>,
    vault_id: &str,
    dir: &str,
    q: &str,
    rows: &[FileRow],
) -> String {
    let base = vault_url(vault_id, "");
    let paths: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
    let l = listing(&paths, dir, q);
    let dir_url = |d: &str| {
        if d.is_empty() {
            base.clone()
        } else {
            format!("{base}?dir={}", qenc(d))
        }
    };
    let mut crumbs = vec![Link {
        label: ui.t("vault.root").to_string(),
        url: dir_url(""),
    }];
    let mut acc = String::new();
    for seg in dir.split('/').filter(|s| !s.is_empty()) {
        if !acc.is_empty() {
            acc.push('/');
        }
        acc.push_str(seg);
        crumbs.push(Link {
            label: seg.to_string(),
            url: dir_url(&acc),
        });
    }
    let skip = if dir.is_empty() { 0 } else { dir.len() + 1 };
    let files = l
        .files
        .iter()
        .map(|&i| {
            let r = &rows[i];
            FileLink {
                shown: &r.path[skip..],
                url: file_url(vault_id, &r.path),
                version: r.version,
                time: ui.date(&r.time),
                size: r.size.map(|n| ui.bytes(&n)).unwrap_or_default(),
            }
        })
        .collect();
    let folders = l
        .folders
        .into_iter()
        .map(|f| FolderLink {
            url: dir_url(&f.path),
            files: ui.count(&(f.files as i64)),
            name: f.name,
        })
        .collect();
    super::render(&Browse {
        ui,
        vault_id,
        deleted_url: vault_url(vault_id, "/deleted"),
        conflicts_url: vault_url(vault_id, "/conflicts"),
        base,
        dir,
        q,
        crumbs,
        folders,
        files,
        no_match: ui.tf("vault.noMatch", q),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: [&str; 6] = [
        "Notes/a.md",
        "Notes/Daily/2026-12-01.md",
        "Notes/Daily/2026-12-02.md",
        "README.md",
        "Work/plan.md",
        "Work/Readme old.md",
    ];

    fn folder(name: &str, path: &str, files: usize) -> Folder {
        Folder {
            name: name.into(),
            path: path.into(),
            files,
        }
    }

    #[test]
    fn a_folder_lists_its_sub_folders_and_own_files() {
        let root = listing(&PATHS, "", "");
        assert_eq!(
            root.folders,
            [folder("Notes", "Notes", 3), folder("Work", "Work", 2)]
        );
        assert_eq!(root.files, [3]);
        let notes = listing(&PATHS, "Notes", "");
        assert_eq!(notes.folders, [folder("Daily", "Notes/Daily", 2)]);
        assert_eq!(notes.files, [0]);
        // A folder that is only a prefix of a name is not that name's folder.
        assert_eq!(listing(&PATHS, "Not", "").files, Vec::<usize>::new());
    }

    #[test]
    fn a_search_finds_names_below_the_folder_ignoring_case() {
        let all = listing(&PATHS, "", "readme");
        assert_eq!((all.folders.len(), all.files), (0, vec![3, 5]));
        assert_eq!(listing(&PATHS, "Work", "README").files, [5]);
        // Only the name counts, not the folders above it.
        assert_eq!(listing(&PATHS, "", "daily").files, Vec::<usize>::new());
        assert_eq!(listing(&PATHS, "", "ПЛАН").files, Vec::<usize>::new());
        assert_eq!(listing(&["Папка/План.md"], "", "план").files, [0]);
    }

    #[test]
    fn dirs_and_urls_are_clean() {
        assert_eq!(clean_dir("/Notes//Daily/"), "Notes/Daily");
        assert_eq!(clean_dir(""), "");
        assert_eq!(penc("my vault/ü"), "my%20vault%2F%C3%BC");
        assert_eq!(
            file_url("v 1", "a b/c&d.md"),
            "/vaults/v%201/file?path=a+b%2Fc%26d.md"
        );
    }
}
