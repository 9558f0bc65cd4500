//! Reading a secret for the command line: a literal flag, a file, or stdin, exactly one of
//! them (`user add --password*`, the run form's `--admin-pass*`).

use std::io::Read;
use std::path::PathBuf;

/// Reads a password from exactly one source; `Err` is a usage message.
pub(crate) fn password_source(
    literal: Option<&str>,
    file: Option<&PathBuf>,
    stdin: bool,
    trim_literal: bool,
) -> Result<Option<String>, String> {
    let n = literal.is_some() as u8 + file.is_some() as u8 + stdin as u8;
    if n > 1 {
        return Err("give exactly one password source".into());
    }
    if let Some(p) = literal {
        return Ok(Some(if trim_literal {
            p.trim().to_owned()
        } else {
            p.to_owned()
        }));
    }
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        return Ok(Some(text.trim().to_owned()));
    }
    if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(Some(text.trim().to_owned()));
    }
    Ok(None)
}
