//! Drag-out: the user drags a `.mid` file from the editor onto a DAW track.
//!
//! The editor owns the drag handle and calls [`start_file_drag`] on the GUI thread once the
//! mouse button is pressed on it and moves. The file must already be on disk and must stay
//! there: hosts read it lazily, after the drop, so this module never deletes it.
//!
//! Threads: [`start_file_drag`] returns at once. The operating-system protocol runs on a
//! thread of its own (one per drag, with its own display connection) that ends by itself when
//! the drag ends; the only thing it shares with the GUI thread is the outcome cell behind
//! [`FileDrag::state`], written once by the drag thread.
//!
//! Platforms:
//! * Linux: X11 (or XWayland) through the XDND protocol, version 5; `x11.rs` beside this file says how
//!   the source side runs without grabbing the pointer (baseview already holds it).
//! * Windows and macOS: not yet. [`support`] says so in words the editor can show, and
//!   [`start_file_drag`] fails with the same message: never a silent no-op.

#[cfg(target_os = "linux")]
mod x11;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Whether this system can drag a file out of the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// [`start_file_drag`] can run.
    Available,
    /// It cannot; the message is for the user (it says what to do instead).
    Unsupported(&'static str),
}

/// Why a drag could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DragError {
    /// This system has no drag-out; see [`support`].
    #[error("{0}")]
    Unsupported(&'static str),
    /// The path is not an existing regular file.
    #[error("cannot drag {}: not a file", .0.display())]
    NotAFile(PathBuf),
    /// The drag thread could not be started.
    #[error("cannot start the drag: {0}")]
    Thread(String),
}

/// Where a drag stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DragState {
    /// The button is still held, or the drop target is still reading the file.
    InProgress,
    /// Dropped on a target that had accepted it; `accepted` is whether the target reported
    /// taking the file when it finished (targets older than XDND 5 cannot say no, and count as
    /// accepted).
    Dropped {
        /// Whether the target took the file.
        accepted: bool,
    },
    /// Released over nothing that accepts files (or cancelled with Escape).
    Cancelled,
    /// The display connection failed or the target stopped answering; the message says how.
    Failed(String),
}

/// A drag in flight. Dropping the handle does not cancel the drag: its thread finishes on its
/// own when the user releases the button and the target is done.
#[derive(Debug)]
pub struct FileDrag {
    /// The final state, set once by the drag thread when the drag ends; unset while it runs.
    outcome: Arc<OnceLock<DragState>>,
}

impl FileDrag {
    /// Where the drag stands now. Cheap (no lock): call it every frame.
    pub fn state(&self) -> DragState {
        self.outcome.get().cloned().unwrap_or(DragState::InProgress)
    }
}

/// Message when the platform has no drag-out at all.
#[cfg(not(target_os = "linux"))]
const NOT_YET: &str = "Drag-out is not available on this system yet: use Export";

/// Whether [`start_file_drag`] can work here. On Linux it needs an X display (X11 or
/// XWayland): `$DISPLAY` must be set.
pub fn support() -> Support {
    #[cfg(target_os = "linux")]
    {
        x11::support()
    }
    #[cfg(not(target_os = "linux"))]
    {
        Support::Unsupported(NOT_YET)
    }
}

/// Starts dragging the file at `path` (made absolute if relative). Call it on the GUI thread
/// while the mouse button is held; it returns at once and the drag follows the pointer until
/// the button is released. Poll [`FileDrag::state`] for the outcome.
pub fn start_file_drag(path: &Path) -> Result<FileDrag, DragError> {
    if let Support::Unsupported(why) = support() {
        return Err(DragError::Unsupported(why));
    }
    #[cfg(target_os = "linux")]
    {
        start_on(None, path)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        Err(DragError::Unsupported(NOT_YET))
    }
}

/// [`start_file_drag`] on the named X display (e.g. `":97"`) instead of `$DISPLAY`, so tests
/// need not change the process environment.
#[doc(hidden)]
#[cfg(target_os = "linux")]
pub fn start_file_drag_on(display: &str, path: &Path) -> Result<FileDrag, DragError> {
    start_on(Some(display.to_owned()), path)
}

/// Checks the file and spawns the drag thread.
#[cfg(target_os = "linux")]
fn start_on(display: Option<String>, path: &Path) -> Result<FileDrag, DragError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if !path.is_file() {
        return Err(DragError::NotAFile(path));
    }
    let uri = file_uri(&path);
    let outcome = Arc::new(OnceLock::new());
    let thread_outcome = Arc::clone(&outcome);
    std::thread::Builder::new()
        .name("lofi-loom drag-out".to_owned())
        .spawn(move || {
            // Nothing in the drag should panic, but a panic must still end it, not leave the
            // editor waiting on a drag that will never finish.
            let run = std::panic::AssertUnwindSafe(|| x11::run(display.as_deref(), &uri));
            let state = std::panic::catch_unwind(run).unwrap_or_else(|_| {
                DragState::Failed("the drag stopped on an internal error".to_owned())
            });
            let _ = thread_outcome.set(state);
        })
        .map_err(|e| DragError::Thread(e.to_string()))?;
    Ok(FileDrag { outcome })
}

/// Bytes kept as they are in a URI path: RFC 3986 unreserved characters and the `/`
/// separator. Everything else (spaces, `%`, `#`, `?`, non-ASCII UTF-8 bytes, …) is
/// percent-encoded, which every reader of `text/uri-list` decodes.
const PATH_KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The `file://` URI of `path` with an empty host, e.g. `/home/a/My Phrase.mid` →
/// `file:///home/a/My%20Phrase.mid`. A relative path is first made absolute against the
/// current directory. On Unix the path's raw bytes are encoded, so names that are not UTF-8
/// survive; on Windows `C:\a b.mid` becomes `file:///C:/a%20b.mid`.
pub fn file_uri(path: &Path) -> String {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let bytes = path_bytes(&path);
    let mut uri = String::from("file://");
    if bytes.first() != Some(&b'/') {
        uri.push('/');
    }
    uri.extend(percent_encoding::percent_encode(&bytes, PATH_KEEP));
    uri
}

/// The path as URI path bytes: raw bytes on Unix.
#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

/// The path as URI path bytes: UTF-8 with `/` separators elsewhere (Windows).
#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().replace('\\', "/").into_bytes()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn spaces_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new("/home/a/My Phrase.mid")),
            "file:///home/a/My%20Phrase.mid"
        );
    }

    #[test]
    fn unreserved_characters_and_slashes_stay() {
        assert_eq!(
            file_uri(Path::new("/a-b/c_d.e~f/G9.mid")),
            "file:///a-b/c_d.e~f/G9.mid"
        );
    }

    #[test]
    fn reserved_and_percent_characters_are_encoded() {
        assert_eq!(
            file_uri(Path::new("/x/100% #1?.mid")),
            "file:///x/100%25%20%231%3F.mid"
        );
        assert_eq!(
            file_uri(Path::new("/x/a+b&c=d;e,f:g@h'(i)!$*.mid")),
            "file:///x/a%2Bb%26c%3Dd%3Be%2Cf%3Ag%40h%27%28i%29%21%24%2A.mid"
        );
    }

    #[test]
    fn non_ascii_is_encoded_as_utf8_bytes() {
        assert_eq!(
            file_uri(Path::new("/home/zoë/夜.mid")),
            "file:///home/zo%C3%AB/%E5%A4%9C.mid"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_survive() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff\x80.mid"));
        assert_eq!(file_uri(path), "file:///tmp/%FF%80.mid");
    }

    #[test]
    fn relative_paths_are_made_absolute() {
        let cwd = std::env::current_dir().expect("a current directory");
        let expected = format!("{}/a%20b.mid", file_uri(&cwd));
        assert_eq!(file_uri(Path::new("a b.mid")), expected);
    }

    #[test]
    fn a_missing_file_cannot_be_dragged() {
        #[cfg(target_os = "linux")]
        {
            let missing = Path::new("/nonexistent/lofi loom/x.mid");
            let err = start_on(Some(":0".to_owned()), missing).expect_err("no such file");
            assert_eq!(err, DragError::NotAFile(missing.to_path_buf()));
        }
    }
}
