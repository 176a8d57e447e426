//! Reading plugin and module code with the size cap (`[limits] max_source_kb`): a file larger
//! than the cap is refused before it is read, so a huge script never reaches V8 (compiling one
//! ~20 MB string literal aborts the whole process at small heaps). Plugin files
//! (`plugin::load`) and `require`d modules (`ext::modules`) both read through here.

use std::io::Read;
use std::path::Path;
use thiserror::Error;

/// Default of `[limits] max_source_kb`.
pub const DEFAULT_MAX: usize = 4 << 20;

/// Highest `max_source_kb` the config accepts. Measured with the debug build: a 16 MB literal
/// compiles or fails cleanly at `heap_mb = 8`, a 20 MB one aborts V8; the cap stays below that.
pub const MAX_KB_LIMIT: usize = 8192;

#[derive(Debug, Error)]
pub enum CodeFileError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the file is {size} bytes, more than [limits] max_source_kb allows ({} KB); split it into modules or raise max_source_kb in the config (at most {MAX_KB_LIMIT})", max / 1024)]
    TooLarge { size: u64, max: usize },
    #[error("the file is not UTF-8 text ({0})")]
    NotText(std::string::FromUtf8Error),
}

/// The text of `path` if it is at most `max` bytes. The size is checked before reading and
/// again while reading (the file may grow meanwhile).
pub fn read(path: &Path, max: usize) -> Result<String, CodeFileError> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > max as u64 {
        return Err(CodeFileError::TooLarge { size, max });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(CodeFileError::TooLarge {
            size: bytes.len() as u64,
            max,
        });
    }
    String::from_utf8(bytes).map_err(CodeFileError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_cap_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.js");
        std::fs::write(&f, "x".repeat(100)).unwrap();
        assert_eq!(read(&f, 100).unwrap().len(), 100);
        let e = read(&f, 99).unwrap_err();
        assert!(
            matches!(e, CodeFileError::TooLarge { size: 100, max: 99 }),
            "{e}"
        );
        assert!(e.to_string().contains("max_source_kb"), "{e}");
        std::fs::write(&f, [0xff, 0xfe]).unwrap();
        assert!(matches!(read(&f, 100), Err(CodeFileError::NotText(_))));
        let missing = read(&dir.path().join("none.js"), 100).unwrap_err();
        assert!(
            matches!(missing, CodeFileError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
        );
    }
}
