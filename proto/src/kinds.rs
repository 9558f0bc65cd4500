//! The entity type and op type of an op (plugin-contract §4.3, §4.4), typed.
//!
//! Both are open sets: the desktop defines more types than this project reads, and a receiver
//! must skip what it does not understand without stalling. So each enum names the types some
//! code here acts on and keeps every other string in `Other`, unchanged: a value read from the
//! wire serialises back to exactly the same string, and the server stores and returns it
//! verbatim. Build values with `From<&str>`/`From<String>` (which never puts a known string
//! into `Other`); equality and hashing compare the wire strings.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// Any other string, kept exactly as received.
            Other(String),
        }

        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)*
                    _ => Self::Other(s.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($wire => Self::$variant,)*
                    _ => Self::Other(s),
                }
            }
        }

        /// The empty string: what an absent or `null` field decodes to.
        impl Default for $name {
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, h: &mut H) {
                self.as_str().hash(h)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::from)
            }
        }
    };
}

wire_enum! {
    /// `entity_type` (§4.3).
    EntityType {
        /// A vault file; its payload is a [`crate::payload`] file payload.
        File = "file",
        /// A vault folder.
        Folder = "folder",
        /// Desktop only: a workspace ("Deal") directory.
        Workspace = "workspace",
        /// Desktop only: a folder inside the workspace tree.
        WorkspaceFolder = "workspace-folder",
    }
}

wire_enum! {
    /// `op_type` (§4.4). The server reads only `delete` (tombstones, conflicts).
    OpType {
        Create = "create",
        Update = "update",
        Delete = "delete",
        /// Accepted on apply for files and folders (`fromPath`/`toPath`).
        Move = "move",
        /// Desktop only: workspace and workspace-folder renames.
        Rename = "rename",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_strings_round_trip() {
        for s in [
            "file",
            "folder",
            "workspace",
            "workspace-folder",
            "plugin-record",
            "",
            " file",
        ] {
            let t = EntityType::from(s);
            assert_eq!(t.as_str(), s);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, serde_json::to_string(s).unwrap());
            assert_eq!(serde_json::from_str::<EntityType>(&json).unwrap(), t);
        }
        assert_eq!(EntityType::from("file"), EntityType::File);
        assert_eq!(EntityType::from("File"), EntityType::Other("File".into()));
        assert_eq!(OpType::from("trash".to_string()).as_str(), "trash");
        assert_eq!(OpType::from("delete"), OpType::Delete);
        assert_eq!(OpType::default(), "");
    }

    #[test]
    fn equality_is_by_wire_string() {
        // A hand-built `Other` holding a known string still equals the named variant.
        assert_eq!(EntityType::Other("folder".into()), EntityType::Folder);
        assert!(OpType::Move == "move");
    }
}
