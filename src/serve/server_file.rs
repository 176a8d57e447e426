//! `<data_dir>/server.json`: how commands find the running server of a data folder. `serve`
//! writes it once it listens (`{"addr", "token", "pid"}`, mode 0600: it holds the admin token)
//! and removes it on a clean exit; `isobot run`, `store`, `status`, `logs`, `runs` and `deps`
//! read it and talk to the server's admin API when it answers, instead of opening the locked
//! store themselves.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE: &str = "server.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerFile {
    /// `127.0.0.1:8080`: where the API listens (a wildcard bind is given as loopback).
    pub addr: String,
    /// The admin token, when one is configured.
    pub token: Option<String>,
    pub pid: u32,
}

impl ServerFile {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE)
    }

    /// Reads the file of `data_dir`, if there is one that parses.
    pub fn read(data_dir: &Path) -> Option<ServerFile> {
        let text = std::fs::read_to_string(Self::path(data_dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes it with mode 0600 (a temp file renamed over the old one).
    pub fn write(&self, data_dir: &Path) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(data_dir)?;
        let tmp = data_dir.join(format!(".{FILE}.{}", self.pid));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(serde_json::to_string(self).unwrap_or_default().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, Self::path(data_dir))
    }

    /// Removes the file if it is still this process's.
    pub fn remove(data_dir: &Path, pid: u32) {
        if Self::read(data_dir).is_some_and(|f| f.pid == pid) {
            let _ = std::fs::remove_file(Self::path(data_dir));
        }
    }
}

/// Removes the server file when `serve` returns (a clean exit or an error).
pub struct Guard {
    pub data_dir: PathBuf,
    pub pid: u32,
}

impl Drop for Guard {
    fn drop(&mut self) {
        ServerFile::remove(&self.data_dir, self.pid);
    }
}
