//! Media of Telegram sends: which method sends an item (`sendVoice` or `sendAudio` …), the
//! file name of an upload, and the `InputFile` of each source (a URL stays a link, a local file
//! is read, base64 is decoded).

use super::types::{FileMethod, InputFile};
use crate::outgoing::{AdapterError, Media, MediaKind, MediaSource};
use base64::Engine as _;
use std::path::Path;

/// Voice goes out as a voice note (`sendVoice`, OGG/Opus) unless the source is a music format
/// (MP3, M4A, AAC, WAV, FLAC by name or MIME type): then `sendAudio`.
pub fn method_for(kind: MediaKind, media: &Media) -> FileMethod {
    match kind {
        MediaKind::Image => FileMethod::Photo,
        MediaKind::Video => FileMethod::Video,
        MediaKind::File => FileMethod::Document,
        MediaKind::Voice => {
            let mime = media.mime.as_deref().or(match &media.source {
                MediaSource::Base64 { mime, .. } => mime.as_deref(),
                _ => None,
            });
            let ext = extension(media).unwrap_or_default();
            let music_ext = ["mp3", "m4a", "aac", "wav", "flac"].contains(&ext.as_str());
            let music_mime = mime.is_some_and(|m| {
                [
                    "audio/mpeg",
                    "audio/mp3",
                    "audio/mp4",
                    "audio/x-m4a",
                    "audio/aac",
                    "audio/wav",
                    "audio/x-wav",
                    "audio/flac",
                ]
                .contains(&m)
            });
            if music_ext || music_mime {
                FileMethod::Audio
            } else {
                FileMethod::Voice
            }
        }
    }
}

/// The lower-case extension of the media's name, path or URL path.
fn extension(media: &Media) -> Option<String> {
    let from = match (&media.name, &media.source) {
        (Some(n), _) => n.as_str(),
        (None, MediaSource::Path { path }) => path.as_str(),
        (None, MediaSource::Url { url }) => url.split(['?', '#']).next().unwrap_or(url),
        (None, MediaSource::Base64 { .. }) => return None,
    };
    Path::new(from)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The file name an upload gets: the given name, the path's file name, or `<kind>.<ext>`.
fn upload_name(kind: MediaKind, media: &Media, mime: Option<&str>) -> String {
    if let Some(n) = media.name.as_deref().filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    if let MediaSource::Path { path } = &media.source {
        if let Some(n) = Path::new(path).file_name() {
            return n.to_string_lossy().into_owned();
        }
    }
    let ext = match mime {
        Some("image/png") => "png",
        Some("image/gif") => "gif",
        Some("image/webp") => "webp",
        Some("audio/mpeg") => "mp3",
        Some("video/mp4") => "mp4",
        Some(_) | None => match kind {
            MediaKind::Image => "jpg",
            MediaKind::Voice => "ogg",
            MediaKind::Video => "mp4",
            MediaKind::File => "bin",
        },
    };
    format!("{}.{ext}", kind.as_str())
}

/// A URL stays a link; a local file is read and a base64 source decoded for upload.
pub async fn input_file(kind: MediaKind, media: &Media) -> Result<InputFile, AdapterError> {
    let (bytes, mime) = match &media.source {
        MediaSource::Url { url } => return Ok(InputFile::Url(url.clone())),
        MediaSource::Path { path } => {
            // The path was confined when the plugin sent it; what is read must still be it.
            let file = std::path::PathBuf::from(path);
            let read = tokio::task::spawn_blocking(move || {
                use std::io::Read;
                let mut bytes = Vec::new();
                crate::confine::open_checked(&file)?.read_to_end(&mut bytes)?;
                Ok::<_, std::io::Error>(bytes)
            })
            .await
            .map_err(|e| AdapterError::Media(format!("cannot read {path}: {e}")))?;
            let bytes =
                read.map_err(|e| AdapterError::Media(format!("cannot read {path}: {e}")))?;
            (bytes, media.mime.clone())
        }
        MediaSource::Base64 { data, mime } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| AdapterError::Media(format!("base64 source is not valid: {e}")))?;
            (bytes, media.mime.clone().or_else(|| mime.clone()))
        }
    };
    Ok(InputFile::Upload {
        name: upload_name(kind, media, mime.as_deref()),
        mime,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(source: MediaSource, name: Option<&str>, mime: Option<&str>) -> Media {
        Media {
            source,
            name: name.map(str::to_string),
            mime: mime.map(str::to_string),
        }
    }

    #[test]
    fn voice_or_audio() {
        let url = |u: &str| MediaSource::Url { url: u.into() };
        let cases = [
            (media(url("https://x/a.ogg"), None, None), FileMethod::Voice),
            (
                media(url("https://x/a.MP3?x=1"), None, None),
                FileMethod::Audio,
            ),
            (
                media(url("https://x/a"), Some("song.flac"), None),
                FileMethod::Audio,
            ),
            (
                media(url("https://x/a"), None, Some("audio/mpeg")),
                FileMethod::Audio,
            ),
            (
                media(
                    MediaSource::Base64 {
                        data: "AA==".into(),
                        mime: Some("audio/ogg".into()),
                    },
                    None,
                    None,
                ),
                FileMethod::Voice,
            ),
            (
                media(
                    MediaSource::Path {
                        path: "/v/a.m4a".into(),
                    },
                    None,
                    None,
                ),
                FileMethod::Audio,
            ),
        ];
        for (m, want) in cases {
            assert_eq!(method_for(MediaKind::Voice, &m), want, "{m:?}");
        }
    }

    #[test]
    fn upload_names() {
        let b64 = MediaSource::Base64 {
            data: "AA==".into(),
            mime: None,
        };
        assert_eq!(
            upload_name(
                MediaKind::Image,
                &media(b64.clone(), None, None),
                Some("image/png")
            ),
            "image.png"
        );
        assert_eq!(
            upload_name(MediaKind::File, &media(b64, Some("r.pdf"), None), None),
            "r.pdf"
        );
        let p = MediaSource::Path {
            path: "/srv/x/clip.mp4".into(),
        };
        assert_eq!(
            upload_name(MediaKind::Video, &media(p, None, None), None),
            "clip.mp4"
        );
    }
}
