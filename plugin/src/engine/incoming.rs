//! What to do with a pulled op from another device: pure functions of the op and what the
//! engine knows about its path, table-tested below. `run/apply.rs` and `run/apply_dir.rs`
//! execute the answers (and come back here after a `Changed` rescan).
//!
//! * [`route`]: which kind of apply an op gets from its entity and op type (§4.3, §4.4, §4.14);
//!   anything else is skipped.
//! * [`upsert`]: an incoming file version against the local file, the synced version and our
//!   own accepted-but-unechoed op for the path (§5.4.2, §5.4.4).
//! * [`trashed_folder`]: the folder a desktop `workspace-folder trash` removes.
//! * [`file_delete`]: an incoming file delete (§5.4.3): trash only the exact synced version.

use verstak_sync_proto::{EntityType, OpType, PulledOp};

use super::hash::ContentHash;
use super::path::VaultPath;
use super::payload::Incoming;
use super::saved::{LocalEntry, OpKind, SyncedEntry};

/// The apply a pulled op gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    FileUpsert,
    FileDelete,
    FolderCreate,
    FolderDelete,
    /// The desktop's `workspace-folder trash` (payload `path`): a folder delete (issue 14).
    FolderTrash,
    /// A file or folder `move`, or a desktop workspace rename, applied as a directory move.
    Move,
    /// Not something this engine applies; counted as skipped.
    Skip,
}

pub(crate) fn route(entity: &EntityType, op: &OpType) -> Route {
    use {EntityType as E, OpType as O};
    match (entity, op) {
        (E::File, O::Create | O::Update) => Route::FileUpsert,
        (E::File, O::Delete) => Route::FileDelete,
        (E::Folder, O::Create) => Route::FolderCreate,
        (E::Folder, O::Delete) => Route::FolderDelete,
        (E::WorkspaceFolder, o) if o.as_str() == "trash" => Route::FolderTrash,
        (E::File | E::Folder, O::Move)
        | (E::Workspace, O::Rename)
        | (E::WorkspaceFolder, O::Move | O::Rename) => Route::Move,
        _ => Route::Skip,
    }
}

/// The folder a desktop `workspace-folder trash` removes (its payload's `path`), or `None`
/// for any other op or a payload without a valid path.
pub(crate) fn trashed_folder(op: &PulledOp) -> Option<VaultPath> {
    if route(&op.entity_type, &op.op_type) != Route::FolderTrash {
        return None;
    }
    let path = Incoming::parse(&op.payload_json).ok()?.path?;
    VaultPath::parse(&path).ok()
}

/// What the engine knows about the path of an incoming op.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known<'a> {
    pub local: Option<&'a LocalEntry>,
    pub synced: Option<&'a SyncedEntry>,
    /// Our own op for the path that the server accepted but has not echoed yet: it comes
    /// later in server order, so it wins over the incoming one.
    pub ours: Option<(OpKind, Option<&'a ContentHash>)>,
    /// A later op of this pull (already fetched) carries exactly the local file's version, so
    /// the incoming one is superseded for this device (a re-read history, issue 14 item 1).
    pub later_local: bool,
}

impl Known<'_> {
    /// The synced version's hash when the server is known to hold a file here.
    fn synced_file(&self) -> Option<&ContentHash> {
        self.synced.and_then(SyncedEntry::hash)
    }
}

/// What to do with an incoming file version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Upsert {
    /// Nothing: the local file already is this version, or ours supersedes it.
    Nothing,
    /// The local file already is this version: record it as synced.
    MarkSynced,
    /// Nothing is here: write it and record it as synced.
    Create,
    /// The local file is the unchanged synced version (this hash): overwrite it, mark synced.
    Overwrite(ContentHash),
    /// The local file (this hash) changed since the synced version: merge, or keep both.
    MergeOrKeepBoth(ContentHash),
    /// The path holds something else (a folder, a too-large file, our newer version): the
    /// incoming version goes to a conflict copy.
    IncomingToCopy,
    /// Our later delete of a file that is gone: put the incoming version back (an edit wins
    /// over a delete) without recording it as synced, so it is published again.
    Restore,
}

pub(crate) fn upsert(k: &Known<'_>, incoming: &ContentHash) -> Upsert {
    if let Some((kind, ours)) = k.ours {
        let local = k.local.and_then(LocalEntry::hash);
        return match (kind, k.local) {
            (OpKind::Delete, None) => Upsert::Restore,
            _ if local == Some(incoming) || ours == Some(incoming) => Upsert::Nothing,
            _ => Upsert::IncomingToCopy,
        };
    }
    match k.local {
        None => Upsert::Create,
        Some(LocalEntry::Dir | LocalEntry::TooLarge { .. }) => Upsert::IncomingToCopy,
        Some(LocalEntry::File { hash, .. }) if hash == incoming => Upsert::MarkSynced,
        Some(LocalEntry::File { hash, .. }) if k.synced_file() == Some(hash) => {
            Upsert::Overwrite(hash.clone())
        }
        // Identical content never makes a conflict copy: the later op marks it synced.
        Some(LocalEntry::File { .. }) if k.later_local => Upsert::Nothing,
        Some(LocalEntry::File { hash, .. }) => Upsert::MergeOrKeepBoth(hash.clone()),
    }
}

/// What to do with an incoming file delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileDelete {
    /// Keep everything as it is.
    Nothing,
    /// The local file is exactly the synced version (this hash): trash it, forget both entries.
    Trash(ContentHash),
    /// Keep the local state (a changed file becomes a pending create); forget the synced entry.
    ForgetSynced,
}

/// `keep_deletes`: the user chose `restoreDeletions("incoming")` for this run.
pub(crate) fn file_delete(k: &Known<'_>, keep_deletes: bool) -> FileDelete {
    if k.ours.is_some() {
        return FileDelete::Nothing;
    }
    match k.local {
        Some(LocalEntry::File { hash, .. }) if k.synced_file() == Some(hash) && !keep_deletes => {
            FileDelete::Trash(hash.clone())
        }
        // A folder stands here now: only a synced file entry is forgotten.
        Some(LocalEntry::Dir) if k.synced_file().is_none() => FileDelete::Nothing,
        _ => FileDelete::ForgetSynced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> ContentHash {
        ContentHash::of(s.as_bytes())
    }
    fn file(s: &str) -> LocalEntry {
        LocalEntry::File {
            size: s.len() as u64,
            mtime: 0,
            hash: h(s),
        }
    }
    fn sfile(s: &str) -> SyncedEntry {
        SyncedEntry::File {
            hash: h(s),
            text: true,
            size: s.len() as u64,
        }
    }

    #[test]
    fn route_table() {
        let cases = [
            ("file", "create", Route::FileUpsert),
            ("file", "update", Route::FileUpsert),
            ("file", "delete", Route::FileDelete),
            ("file", "move", Route::Move),
            ("file", "rename", Route::Skip),
            ("folder", "create", Route::FolderCreate),
            ("folder", "delete", Route::FolderDelete),
            ("folder", "move", Route::Move),
            ("folder", "update", Route::Skip),
            ("workspace", "rename", Route::Move),
            ("workspace", "create", Route::Skip),
            ("workspace-folder", "move", Route::Move),
            ("workspace-folder", "rename", Route::Move),
            ("workspace-folder", "delete", Route::Skip),
            ("workspace-folder", "trash", Route::FolderTrash),
            ("workspace-folder", "restore", Route::Skip),
            ("workspace", "trash", Route::Skip),
            ("plugin-record", "create", Route::Skip),
            ("File", "create", Route::Skip),
        ];
        for (entity, op, want) in cases {
            assert_eq!(route(&entity.into(), &op.into()), want, "{entity} {op}");
        }
    }

    #[test]
    fn trashed_folder_table() {
        let op = |entity: &str, op: &str, payload: &str| PulledOp {
            entity_type: entity.into(),
            op_type: op.into(),
            entity_id: "8d1c0c4e-uuid".into(),
            payload_json: payload.into(),
            ..PulledOp::default()
        };
        let cases = [
            (
                op("workspace-folder", "trash", r#"{"path":"Old stuff"}"#),
                Some("Old stuff"),
            ),
            (
                op("workspace-folder", "trash", r#"{"path":"Deal/Old"}"#),
                Some("Deal/Old"),
            ),
            (op("workspace-folder", "trash", r#"{"path":"../x"}"#), None),
            (op("workspace-folder", "trash", r#"{"folderId":"f"}"#), None),
            (op("workspace-folder", "trash", "not json"), None),
            (
                op("workspace-folder", "delete", r#"{"path":"Old stuff"}"#),
                None,
            ),
            (op("folder", "delete", r#"{"path":"Old stuff"}"#), None),
        ];
        for (o, want) in cases {
            let got = trashed_folder(&o);
            assert_eq!(got.as_ref().map(VaultPath::as_str), want, "{o:?}");
        }
    }

    #[test]
    fn upsert_table() {
        let (dir, big) = (LocalEntry::Dir, LocalEntry::TooLarge { size: 1, mtime: 0 });
        let (a, b, same, inc) = (file("a"), file("b"), file("new"), h("new"));
        let (sa, sdir) = (sfile("a"), SyncedEntry::dir());
        let ha = h("a");
        let known = |local, synced, ours| Known {
            local,
            synced,
            ours,
            later_local: false,
        };
        let cases: Vec<(&str, Known<'_>, Upsert)> = vec![
            ("nothing here", known(None, None, None), Upsert::Create),
            (
                "gone locally, synced",
                known(None, Some(&sa), None),
                Upsert::Create,
            ),
            (
                "folder here",
                known(Some(&dir), None, None),
                Upsert::IncomingToCopy,
            ),
            (
                "too large here",
                known(Some(&big), Some(&sa), None),
                Upsert::IncomingToCopy,
            ),
            (
                "already this version",
                known(Some(&same), None, None),
                Upsert::MarkSynced,
            ),
            (
                "clean local",
                known(Some(&a), Some(&sa), None),
                Upsert::Overwrite(ha.clone()),
            ),
            (
                "local edit",
                known(Some(&b), Some(&sa), None),
                Upsert::MergeOrKeepBoth(h("b")),
            ),
            (
                "never synced",
                known(Some(&a), None, None),
                Upsert::MergeOrKeepBoth(ha.clone()),
            ),
            (
                "synced a folder",
                known(Some(&a), Some(&sdir), None),
                Upsert::MergeOrKeepBoth(ha.clone()),
            ),
            // §5.4.4: our accepted op for the path comes later.
            (
                "our delete, gone",
                known(None, Some(&sa), Some((OpKind::Delete, None))),
                Upsert::Restore,
            ),
            (
                "our delete, file back",
                known(Some(&a), None, Some((OpKind::Delete, None))),
                Upsert::IncomingToCopy,
            ),
            (
                "our update is it",
                known(Some(&a), None, Some((OpKind::Update, Some(&inc)))),
                Upsert::Nothing,
            ),
            (
                "local is it",
                known(Some(&same), None, Some((OpKind::Update, Some(&ha)))),
                Upsert::Nothing,
            ),
            (
                "ours differs",
                known(Some(&a), Some(&sa), Some((OpKind::Update, Some(&ha)))),
                Upsert::IncomingToCopy,
            ),
            (
                "ours, nothing here",
                known(None, None, Some((OpKind::Create, Some(&ha)))),
                Upsert::IncomingToCopy,
            ),
        ];
        for (name, k, want) in cases {
            assert_eq!(upsert(&k, &inc), want, "{name}");
        }
        // A later op of the same pull brings the local version: no copy, nothing written.
        let later = |local, synced| Known {
            local,
            synced,
            ours: None,
            later_local: true,
        };
        let superseded: Vec<(&str, Known<'_>, Upsert)> = vec![
            ("re-read history", later(Some(&b), None), Upsert::Nothing),
            (
                "restored state",
                later(Some(&b), Some(&sa)),
                Upsert::Nothing,
            ),
            (
                "clean local",
                later(Some(&a), Some(&sa)),
                Upsert::Overwrite(ha.clone()),
            ),
            ("already it", later(Some(&same), None), Upsert::MarkSynced),
            ("nothing here", later(None, None), Upsert::Create),
        ];
        for (name, k, want) in superseded {
            assert_eq!(upsert(&k, &inc), want, "{name}");
        }
    }

    #[test]
    fn file_delete_table() {
        let (dir, big) = (LocalEntry::Dir, LocalEntry::TooLarge { size: 1, mtime: 0 });
        let (a, b) = (file("a"), file("b"));
        let (sa, sdir) = (sfile("a"), SyncedEntry::dir());
        let known = |local, synced, ours| Known {
            local,
            synced,
            ours,
            later_local: false,
        };
        let cases: Vec<(&str, Known<'_>, bool, FileDelete)> = vec![
            (
                "clean",
                known(Some(&a), Some(&sa), None),
                false,
                FileDelete::Trash(h("a")),
            ),
            (
                "clean, deletes kept",
                known(Some(&a), Some(&sa), None),
                true,
                FileDelete::ForgetSynced,
            ),
            (
                "edited",
                known(Some(&b), Some(&sa), None),
                false,
                FileDelete::ForgetSynced,
            ),
            (
                "never synced",
                known(Some(&a), None, None),
                false,
                FileDelete::ForgetSynced,
            ),
            (
                "too large",
                known(Some(&big), Some(&sa), None),
                false,
                FileDelete::ForgetSynced,
            ),
            (
                "gone",
                known(None, Some(&sa), None),
                false,
                FileDelete::ForgetSynced,
            ),
            (
                "gone, synced folder",
                known(None, Some(&sdir), None),
                false,
                FileDelete::ForgetSynced,
            ),
            (
                "folder over synced file",
                known(Some(&dir), Some(&sa), None),
                false,
                FileDelete::ForgetSynced,
            ),
            (
                "folder, synced folder",
                known(Some(&dir), Some(&sdir), None),
                false,
                FileDelete::Nothing,
            ),
            (
                "ours later",
                known(Some(&a), Some(&sa), Some((OpKind::Update, None))),
                false,
                FileDelete::Nothing,
            ),
        ];
        for (name, k, keep, want) in cases {
            assert_eq!(file_delete(&k, keep), want, "{name}");
        }
    }
}
