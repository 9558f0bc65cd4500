//! Confinement of the `files` import to the vault (plugin-contract §2.8, §4.2, §4.7).
//!
//! Two layers, used in this order by every file import:
//!
//! 1. [`VaultPath::parse`] accepts only canonical vault-relative slash paths: no leading `/`,
//!    no backslash, no NUL, no empty, `.` or `..` segment and no `.verstak` segment at any
//!    depth (compared case-insensitively). Everything after parsing trusts the type.
//! 2. [`VaultFs`] opens the vault root once as a `cap_std::fs::Dir` and resolves every path
//!    relative to it, so no path can leave the root even through a symlink that appears
//!    between a check and the IO. On top of that, [`VaultFs::refuse_symlinks`] refuses a
//!    symlink at any existing component of a path: symlinks are never synced (§4.7), and
//!    refusing them outright keeps answers deterministic (`outside-vault`).

use crate::bindings::{ErrorCode, HostError};
use cap_std::fs::Dir;
use std::io;
use std::path::{Path, PathBuf};

/// The reserved folder of the desktop and the host; invisible to the plugin.
pub const RESERVED: &str = ".verstak";

/// Why a string is not a canonical vault path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("the path is absolute")]
    Absolute,
    #[error("the path contains a backslash")]
    Backslash,
    #[error("the path contains NUL")]
    Nul,
    #[error("the path has an empty segment")]
    EmptySegment,
    #[error("the path has a `.` or `..` segment")]
    DotSegment,
    #[error("the path names `.verstak`")]
    Reserved,
}

/// A canonical vault-relative path (`Notes/a.md`), never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VaultPath(String);

impl VaultPath {
    /// Parses a spec path (§4.2); the vault root (`""`) is not a `VaultPath`.
    pub fn parse(s: &str) -> Result<VaultPath, PathError> {
        if s.is_empty() {
            return Err(PathError::Empty);
        }
        if s.starts_with('/') {
            return Err(PathError::Absolute);
        }
        if s.contains('\\') {
            return Err(PathError::Backslash);
        }
        if s.contains('\0') {
            return Err(PathError::Nul);
        }
        for seg in s.split('/') {
            match seg {
                "" => return Err(PathError::EmptySegment),
                "." | ".." => return Err(PathError::DotSegment),
                _ if seg.eq_ignore_ascii_case(RESERVED) => return Err(PathError::Reserved),
                _ => {}
            }
        }
        Ok(VaultPath(s.to_string()))
    }

    /// Parses a folder argument where `""` means the vault root (`None`).
    pub fn parse_dir(s: &str) -> Result<Option<VaultPath>, PathError> {
        if s.is_empty() {
            Ok(None)
        } else {
            VaultPath::parse(s).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn as_path(&self) -> &Path {
        Path::new(&self.0)
    }

    /// The last segment.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The parent folder relative to the root; `"."` for a top-level entry.
    pub fn parent(&self) -> &Path {
        match self.0.rfind('/') {
            Some(i) => Path::new(&self.0[..i]),
            None => Path::new("."),
        }
    }

    /// The path and each of its ancestors, shortest first (`a`, `a/b`, `a/b/c`).
    fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.0
            .match_indices('/')
            .map(|(i, _)| &self.0[..i])
            .chain(std::iter::once(self.0.as_str()))
    }
}

impl std::fmt::Display for VaultPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `outside-vault` for a rejected path, naming the path but nothing of the host.
pub fn outside(path: &str, why: impl std::fmt::Display) -> HostError {
    HostError {
        code: ErrorCode::OutsideVault,
        message: format!("{path:?}: {why}"),
    }
}

/// Parses `s` or answers `outside-vault`.
pub fn parse(s: &str) -> Result<VaultPath, HostError> {
    VaultPath::parse(s).map_err(|e| outside(s, e))
}

/// The vault root as a capability: every path is resolved beneath it.
#[derive(Debug)]
pub struct VaultFs {
    root: Dir,
}

impl VaultFs {
    /// Opens `root` (the one use of ambient authority in the file imports).
    pub fn open(root: &Path) -> io::Result<VaultFs> {
        Ok(VaultFs {
            root: Dir::open_ambient_dir(root, cap_std::ambient_authority())?,
        })
    }

    pub fn root(&self) -> &Dir {
        &self.root
    }

    /// Refuses `path` when any existing component of it is a symlink (or when the root
    /// itself cannot be inspected). A missing component ends the walk: nothing below it
    /// exists yet, and whatever the caller then creates is created beneath the root.
    /// Also tells what it found at `path` ([`Found`]), which spares a caller that asks next
    /// whether it exists one more lookup.
    pub fn refuse_symlinks(&self, path: &VaultPath) -> Result<Found, HostError> {
        #[cfg(target_os = "linux")]
        if let Some(found) = self.probe_without_symlinks(path) {
            return found;
        }
        self.walk_refusing_symlinks(path)
    }

    /// [`VaultFs::refuse_symlinks`] in one `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` of
    /// the whole path: the kernel resolves its components in order and answers `ELOOP` at the
    /// first symlink, `ENOENT`/`ENOTDIR` at the first missing one, as the walk does with one
    /// `stat` per component. `None` where `openat2` is unavailable (Linux before 5.6, seccomp).
    #[cfg(target_os = "linux")]
    fn probe_without_symlinks(&self, path: &VaultPath) -> Option<Result<Found, HostError>> {
        use std::os::fd::AsRawFd;
        #[repr(C)]
        struct OpenHow {
            flags: u64,
            mode: u64,
            resolve: u64,
        }
        // No O_NOFOLLOW: a symlink as the last component is an ELOOP too.
        let how = OpenHow {
            flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
            mode: 0,
            resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS,
        };
        let c_path = std::ffi::CString::new(path.as_str()).ok()?;
        // SAFETY: a valid folder descriptor, a NUL-terminated path and an `open_how` of the
        // size passed, all alive across the call.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.root.as_raw_fd(),
                c_path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd >= 0 {
            // SAFETY: the descriptor was just opened and is owned by nobody else.
            unsafe { libc::close(fd as libc::c_int) };
            return Some(Ok(Found::Exists));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENOENT) => Some(Ok(Found::Missing)),
            Some(libc::ENOTDIR) => Some(Ok(Found::UnderAFile)),
            Some(libc::ELOOP) => Some(Err(outside(path.as_str(), "a symlink is in the way"))),
            Some(libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG | libc::EAGAIN) => None,
            _ => Some(Err(io_error(path.as_str(), e))),
        }
    }

    /// [`VaultFs::refuse_symlinks`] one component at a time.
    fn walk_refusing_symlinks(&self, path: &VaultPath) -> Result<Found, HostError> {
        for prefix in path.prefixes() {
            match self.root.symlink_metadata(prefix) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(outside(path.as_str(), "a symlink is in the way"));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
                Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                    return Ok(Found::UnderAFile);
                }
                Err(e) => return Err(io_error(path.as_str(), e)),
            }
        }
        Ok(Found::Exists)
    }
}

/// What [`VaultFs::refuse_symlinks`] found at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Exists,
    /// The path, or a folder on the way to it, does not exist: the path is free.
    Missing,
    /// A component on the way is a file: nothing can be created there.
    UnderAFile,
}

/// Maps an IO failure under the root to a guest error: `not-found`, `outside-vault` for an
/// escape that cap-std stopped (`EXDEV` from `openat2(RESOLVE_BENEATH)`, or its own check), or `io`.
pub fn io_error(what: &str, e: io::Error) -> HostError {
    let escaped = e.raw_os_error() == Some(libc::EXDEV)
        || e.to_string().contains("outside of the filesystem");
    let code = match e.kind() {
        _ if escaped => ErrorCode::OutsideVault,
        io::ErrorKind::NotFound => ErrorCode::NotFound,
        _ => ErrorCode::Io,
    };
    HostError {
        code,
        message: format!("{what}: {e}"),
    }
}

/// `<root>`-relative path of a host-owned place (trash, staging) below `.verstak/`.
pub fn reserved(parts: &[&str]) -> PathBuf {
    let mut p = PathBuf::from(RESERVED);
    p.extend(parts);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_parse() {
        for ok in [
            "a",
            "Notes/a.md",
            "a b/c.d/e",
            ".hidden/x",
            "verstak/x",
            "x.verstak",
            "ü/ж.md",
        ] {
            assert_eq!(VaultPath::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn escapes_and_non_canonical_paths_are_refused() {
        let table = [
            ("", PathError::Empty),
            ("../x", PathError::DotSegment),
            ("/etc/passwd", PathError::Absolute),
            ("a/../../x", PathError::DotSegment),
            ("./a", PathError::DotSegment),
            ("a/.", PathError::DotSegment),
            (".verstak/config", PathError::Reserved),
            (".verstak", PathError::Reserved),
            ("a/.verstak/b", PathError::Reserved),
            ("a/.VerStak", PathError::Reserved),
            ("a\0b", PathError::Nul),
            ("a//b", PathError::EmptySegment),
            ("a/", PathError::EmptySegment),
            ("a\\..\\x", PathError::Backslash),
            ("C:\\x", PathError::Backslash),
        ];
        for (input, want) in table {
            assert_eq!(VaultPath::parse(input), Err(want.clone()), "{input:?}");
            let err = parse(input).unwrap_err();
            assert!(matches!(err.code, ErrorCode::OutsideVault), "{input:?}");
        }
    }

    #[test]
    fn root_is_only_a_folder_argument() {
        assert_eq!(VaultPath::parse_dir("").unwrap(), None);
        assert_eq!(VaultPath::parse_dir("a").unwrap().unwrap().as_str(), "a");
        assert!(VaultPath::parse_dir("/").is_err());
    }

    #[test]
    fn names_parents_and_prefixes() {
        let p = VaultPath::parse("a/b/c.md").unwrap();
        assert_eq!(p.name(), "c.md");
        assert_eq!(p.parent(), Path::new("a/b"));
        assert_eq!(p.prefixes().collect::<Vec<_>>(), ["a", "a/b", "a/b/c.md"]);
        let top = VaultPath::parse("c.md").unwrap();
        assert_eq!(top.parent(), Path::new("."));
        assert_eq!(top.prefixes().collect::<Vec<_>>(), ["c.md"]);
    }

    #[test]
    fn symlinks_anywhere_in_a_path_are_refused() {
        let vault = tempfile::tempdir().unwrap();
        std::fs::create_dir(vault.path().join("real")).unwrap();
        std::os::unix::fs::symlink("/tmp", vault.path().join("out")).unwrap();
        std::os::unix::fs::symlink("real", vault.path().join("inside")).unwrap();
        let fs = VaultFs::open(vault.path()).unwrap();
        for p in ["out", "out/x", "out/x/y", "inside/a"] {
            let err = fs
                .refuse_symlinks(&VaultPath::parse(p).unwrap())
                .unwrap_err();
            assert!(matches!(err.code, ErrorCode::OutsideVault), "{p}");
        }
        std::fs::write(vault.path().join("real/file"), b"x").unwrap();
        for p in ["out", "out/x", "out/x/y", "inside/a"] {
            let err = fs
                .walk_refusing_symlinks(&VaultPath::parse(p).unwrap())
                .unwrap_err();
            assert!(matches!(err.code, ErrorCode::OutsideVault), "{p}");
        }
        for (p, found) in [
            ("real", Found::Exists),
            ("real/file", Found::Exists),
            ("real/new", Found::Missing),
            ("real/file/below", Found::UnderAFile),
            ("missing/deeper", Found::Missing),
        ] {
            let p = VaultPath::parse(p).unwrap();
            assert_eq!(fs.refuse_symlinks(&p).unwrap(), found, "{p}");
            assert_eq!(fs.walk_refusing_symlinks(&p).unwrap(), found, "{p}");
        }
    }
}
