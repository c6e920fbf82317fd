//! The XDND drag source (protocol version 5) on X11, for [`super::start_file_drag`].
//!
//! Runs entirely on the drag thread, with a display connection of its own. The editor's window
//! belongs to baseview, which holds the implicit pointer grab while the button is down, so
//! nothing here grabs the pointer: the root window's pointer position and button 1 are polled
//! every [`POLL_INTERVAL`], and messages go straight to the drop target.
//!
//! The source side, as the spec (<https://freedesktop.org/wiki/Specifications/XDND>) asks:
//! * the data is offered through the `XdndSelection`, owned by an unmapped InputOnly window of
//!   this connection, in the types of [`Source::offered`] (few enough to list in `XdndEnter`
//!   itself);
//! * the target is the first window with `XdndAware` on the way from the root down to the
//!   pointer (a window manager's frame has none, the client window inside it has), honouring
//!   `XdndProxy`; the version spoken is the smaller of ours and the target's;
//! * `XdndPosition` is sent on moves, but never before the `XdndStatus` for the previous one
//!   came back, and not inside the rectangle the target said needs no more positions;
//! * on release the last status must be for the release point (one more position is sent if
//!   not); then `XdndDrop` if the target accepted, else `XdndLeave` and the drag is cancelled;
//! * after the drop, `SelectionRequest`s are answered until `XdndFinished` or [`FINISH_TIMEOUT`].
//!
//! The URI list is a few hundred bytes at most, so the `INCR` protocol for large selections is
//! never needed. Escape (seen through `QueryKeymap`, as the keyboard is not ours either)
//! cancels. Every X error or timeout ends the drag as [`DragState::Failed`]; a foreign window
//! vanishing mid-drag (a target closing, a requestor gone) is the normal race of X and is not
//! an error unless the drop was waiting on it.

use super::{DragState, Support};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::errors::{ConnectError, ConnectionError, ReplyError, ReplyOrIdError};
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, KeyButMask,
    Keycode, PropMode, SelectionNotifyEvent, SelectionRequestEvent, Timestamp, Window, WindowClass,
    SELECTION_NOTIFY_EVENT,
};
use x11rb::protocol::{ErrorKind, Event};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::x11_utils::X11Error;
use x11rb::{COPY_DEPTH_FROM_PARENT, COPY_FROM_PARENT, CURRENT_TIME, NONE};

/// The XDND version we speak.
const XDND_VERSION: u32 = 5;
/// The oldest target version we talk to (older ones differ in message layout).
const XDND_MIN_VERSION: u32 = 3;
/// How often the pointer is polled and events are read.
const POLL_INTERVAL: Duration = Duration::from_millis(8);
/// Longest wait for the server to report the time (a round trip in practice).
const TIME_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait, after the button is released, for the status of the last position.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait, after the drop, for the target to say it has finished.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);
/// Deepest window nesting searched for a drop target (guards against a hostile tree).
const MAX_DEPTH: usize = 64;
/// The Escape keysym (`XK_Escape`).
const KEYSYM_ESCAPE: u32 = 0xff1b;

x11rb::atom_manager! {
    /// The atoms the source uses, interned once per drag.
    Atoms: AtomsCookie {
        XdndAware,
        XdndProxy,
        XdndSelection,
        XdndEnter,
        XdndPosition,
        XdndStatus,
        XdndLeave,
        XdndDrop,
        XdndFinished,
        XdndActionCopy,
        TARGETS,
        UTF8_STRING,
        TEXT_URI_LIST: b"text/uri-list",
        TEXT_PLAIN: b"text/plain",
        LOFI_LOOM_TIME: b"_LOFI_LOOM_DRAG_TIME",
    }
}

/// Whether drag-out can run: an X display (X11 or XWayland) is needed.
pub(super) fn support() -> Support {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("DISPLAY") {
        Support::Available
    } else if set("WAYLAND_DISPLAY") {
        Support::Unsupported(
            "Drag-out needs XWayland, which this Wayland session does not run: use Export",
        )
    } else {
        Support::Unsupported("Drag-out needs an X11 display ($DISPLAY is not set): use Export")
    }
}

/// Runs one drag of `uri` on `display` (None: `$DISPLAY`) to its end; failures are returned
/// as [`DragState::Failed`].
pub(super) fn run(display: Option<&str>, uri: &str) -> DragState {
    let mut source = match Source::connect(display, uri) {
        Ok(source) => source,
        Err(Failure(why)) => return DragState::Failed(why),
    };
    let state = match source.drag() {
        Ok(state) => state,
        Err(Failure(why)) => {
            source.leave_quietly();
            DragState::Failed(why)
        }
    };
    // Requests still in flight when a connection closes may be thrown away with it (a last
    // XdndLeave was, in testing): wait until the server has handled them all.
    source.sync_quietly();
    state
}

/// Why the drag failed, in words for the user.
struct Failure(String);

impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Self {
        Failure(format!("cannot open the X display: {e}"))
    }
}

impl From<ConnectionError> for Failure {
    fn from(e: ConnectionError) -> Self {
        Failure(format!("X connection lost: {e}"))
    }
}

impl From<ReplyError> for Failure {
    fn from(e: ReplyError) -> Self {
        Failure(format!("X request failed: {e}"))
    }
}

impl From<ReplyOrIdError> for Failure {
    fn from(e: ReplyOrIdError) -> Self {
        Failure(format!("X request failed: {e}"))
    }
}

/// A drop target the pointer is over.
#[derive(Debug, Clone, Copy)]
struct Target {
    /// The `XdndAware` window under the pointer: the `window` field of every message.
    window: Window,
    /// Where messages are sent: the window itself or its `XdndProxy`.
    deliver_to: Window,
    /// The version spoken with it: min(ours, theirs).
    version: u32,
    /// Whether its last `XdndStatus` accepted the drop.
    accepted: bool,
    /// Whether an `XdndPosition` was sent and its `XdndStatus` has not come back yet.
    awaiting_status: bool,
    /// The root position last sent in an `XdndPosition`.
    last_sent: Option<(i16, i16)>,
    /// Root rectangle (x, y, width, height) in which the target wants no more positions.
    quiet: Option<(i16, i16, u16, u16)>,
    /// Set when the window was destroyed under us.
    gone: bool,
}

impl Target {
    /// Whether the target needs to hear about the pointer at `pos`.
    fn needs_position(&self, pos: (i16, i16)) -> bool {
        if self.last_sent == Some(pos) {
            return false;
        }
        let Some((x, y, w, h)) = self.quiet else {
            return true;
        };
        let (x, y) = (i32::from(x), i32::from(y));
        let inside = (x..x + i32::from(w)).contains(&i32::from(pos.0))
            && (y..y + i32::from(h)).contains(&i32::from(pos.1));
        !inside
    }
}

/// The source side of one drag: its connection, window and the target it is over.
struct Source {
    /// This drag's own display connection.
    conn: RustConnection,
    /// Root window of the default screen: pointer positions are relative to it.
    root: Window,
    /// Our unmapped InputOnly window: owner of `XdndSelection`, source of every message.
    window: Window,
    /// Interned atoms.
    atoms: Atoms,
    /// Server time at which we took the selection; stamped on positions and the drop.
    time: Timestamp,
    /// The file URI being dragged.
    uri: String,
    /// Keycodes that produce Escape.
    escape: Vec<Keycode>,
    /// The target the pointer is over, if any.
    target: Option<Target>,
    /// Set by `XdndFinished` from the target: whether it took the file.
    finished: Option<bool>,
}

impl Source {
    /// Connects, creates the source window and takes `XdndSelection`.
    fn connect(display: Option<&str>, uri: &str) -> Result<Source, Failure> {
        let (conn, screen) = x11rb::connect(display)?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .ok_or_else(|| Failure("the X display has no such screen".to_owned()))?
            .root;
        let atoms = Atoms::new(&conn)?.reply()?;
        let window = conn.generate_id()?;
        conn.create_window(
            COPY_DEPTH_FROM_PARENT,
            window,
            root,
            -100,
            -100,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            COPY_FROM_PARENT,
            &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )?
        .check()?;
        let escape = escape_keycodes(&conn)?;
        let mut source = Source {
            conn,
            root,
            window,
            atoms,
            time: CURRENT_TIME,
            uri: uri.to_owned(),
            escape,
            target: None,
            finished: None,
        };
        source.time = source.server_time()?;
        source.own_selection()?;
        Ok(source)
    }

    /// The server's current time, read from the PropertyNotify of a zero-length append to our
    /// own window (the ICCCM way: CurrentTime is not allowed for selection ownership).
    fn server_time(&self) -> Result<Timestamp, Failure> {
        self.conn.change_property8(
            PropMode::APPEND,
            self.window,
            self.atoms.LOFI_LOOM_TIME,
            AtomEnum::STRING,
            &[],
        )?;
        self.conn.flush()?;
        let deadline = Instant::now() + TIME_TIMEOUT;
        loop {
            match self.conn.poll_for_event()? {
                Some(Event::PropertyNotify(e))
                    if e.window == self.window && e.atom == self.atoms.LOFI_LOOM_TIME =>
                {
                    return Ok(e.time);
                }
                Some(Event::Error(e)) => return Err(x_error(&e)),
                Some(_) => {}
                None if Instant::now() > deadline => {
                    return Err(Failure("the X server did not report its time".to_owned()));
                }
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Makes our window the owner of `XdndSelection`, and checks it worked.
    fn own_selection(&self) -> Result<(), Failure> {
        let selection = self.atoms.XdndSelection;
        self.conn
            .set_selection_owner(self.window, selection, self.time)?
            .check()?;
        if self.conn.get_selection_owner(selection)?.reply()?.owner != self.window {
            return Err(Failure(
                "another program holds the drag selection".to_owned(),
            ));
        }
        Ok(())
    }

    /// Follows the pointer until the button is released, then drops or cancels.
    fn drag(&mut self) -> Result<DragState, Failure> {
        loop {
            self.handle_events()?;
            let pointer = self.conn.query_pointer(self.root)?.reply()?;
            if self.escape_held()? {
                self.leave()?;
                return Ok(DragState::Cancelled);
            }
            let pos = (pointer.root_x, pointer.root_y);
            let under = if pointer.same_screen {
                self.target_at(pos)?
            } else {
                None
            };
            self.switch_to(under)?;
            self.send_position_if_needed(pos)?;
            if !pointer.mask.contains(KeyButMask::BUTTON1) {
                return self.release(pos);
            }
            self.conn.flush()?;
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// The button was released at `pos`: drop on an accepting target, else cancel.
    fn release(&mut self, pos: (i16, i16)) -> Result<DragState, Failure> {
        if self.target.is_none() {
            return Ok(DragState::Cancelled);
        }
        // The decision must rest on the status for the release point itself.
        let deadline = Instant::now() + STATUS_TIMEOUT;
        loop {
            self.handle_events()?;
            let Some(target) = self.target else {
                return Ok(DragState::Cancelled);
            };
            if target.gone {
                self.target = None;
                return Ok(DragState::Cancelled);
            }
            if !target.awaiting_status && !target.needs_position(pos) {
                break;
            }
            self.send_position_if_needed(pos)?;
            if Instant::now() > deadline {
                return Err(Failure(
                    "the drop target did not answer (no XdndStatus)".to_owned(),
                ));
            }
            self.conn.flush()?;
            std::thread::sleep(POLL_INTERVAL);
        }
        let Some(target) = self.target else {
            return Ok(DragState::Cancelled);
        };
        if !target.accepted {
            self.leave()?;
            self.conn.flush()?;
            return Ok(DragState::Cancelled);
        }
        self.send(&target, self.atoms.XdndDrop, [0, self.time, 0, 0])?;
        self.conn.flush()?;
        self.wait_finished(target)
    }

    /// After the drop: serves the data until the target says it has finished.
    fn wait_finished(&mut self, target: Target) -> Result<DragState, Failure> {
        let deadline = Instant::now() + FINISH_TIMEOUT;
        loop {
            self.handle_events()?;
            if let Some(accepted) = self.finished {
                self.target = None;
                // Before version 5 a target could not say it refused: it finished, so it took it.
                let accepted = accepted || target.version < 5;
                return Ok(DragState::Dropped { accepted });
            }
            if self.target.is_some_and(|t| t.gone) {
                self.target = None;
                return Err(Failure(
                    "the drop target closed before finishing".to_owned(),
                ));
            }
            if Instant::now() > deadline {
                self.target = None;
                return Err(Failure(format!(
                    "the drop target did not finish within {} s",
                    FINISH_TIMEOUT.as_secs()
                )));
            }
            self.conn.flush()?;
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Reads every queued event: selection requests, the target's answers, errors.
    fn handle_events(&mut self) -> Result<(), Failure> {
        while let Some(event) = self.conn.poll_for_event()? {
            match event {
                Event::SelectionRequest(request) => self.answer(&request)?,
                Event::ClientMessage(message) if message.format == 32 => {
                    let data = message.data.as_data32();
                    let Some(target) = self.target.as_mut() else {
                        continue;
                    };
                    if data[0] != target.window && data[0] != target.deliver_to {
                        continue;
                    }
                    if message.type_ == self.atoms.XdndStatus {
                        target.awaiting_status = false;
                        target.accepted = data[1] & 1 == 1;
                        let want_more = data[1] & 2 == 2;
                        let (w, h) = ((data[3] >> 16) as u16, data[3] as u16);
                        target.quiet = (!want_more && w > 0 && h > 0).then_some((
                            (data[2] >> 16) as i16,
                            data[2] as i16,
                            w,
                            h,
                        ));
                    } else if message.type_ == self.atoms.XdndFinished {
                        self.finished = Some(data[1] & 1 == 1);
                    }
                }
                Event::Error(error) => self.on_error(&error)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// A foreign window vanishing is the normal race of X; anything else ends the drag.
    fn on_error(&mut self, error: &X11Error) -> Result<(), Failure> {
        if error.error_kind != ErrorKind::Window || error.bad_value == self.window {
            return Err(x_error(error));
        }
        if let Some(target) = self.target.as_mut() {
            if error.bad_value == target.window || error.bad_value == target.deliver_to {
                target.gone = true;
            }
        }
        Ok(())
    }

    /// Answers a request for the dragged data: the URI list (or the URI as text, or the list
    /// of targets); anything else is refused with property None.
    fn answer(&self, request: &SelectionRequestEvent) -> Result<(), Failure> {
        let a = &self.atoms;
        // Obsolete requestors leave the property None: then the target names it.
        let property = if request.property == NONE {
            request.target
        } else {
            request.property
        };
        let ours = request.selection == a.XdndSelection;
        let (requestor, target) = (request.requestor, request.target);
        let served = if !ours {
            false
        } else if target == a.TARGETS {
            let [t0, t1, t2] = self.offered();
            let targets = [a.TARGETS, t0, t1, t2];
            self.conn.change_property32(
                PropMode::REPLACE,
                requestor,
                property,
                AtomEnum::ATOM,
                &targets,
            )?;
            true
        } else if target == a.TEXT_URI_LIST {
            // RFC 2483: every line of a URI list ends in CRLF.
            let list = format!("{}\r\n", self.uri);
            self.conn.change_property8(
                PropMode::REPLACE,
                requestor,
                property,
                target,
                list.as_bytes(),
            )?;
            true
        } else if target == a.UTF8_STRING || target == a.TEXT_PLAIN {
            // The URI is percent-encoded ASCII, so it is valid as either.
            self.conn.change_property8(
                PropMode::REPLACE,
                requestor,
                property,
                target,
                self.uri.as_bytes(),
            )?;
            true
        } else {
            false
        };
        let notify = SelectionNotifyEvent {
            response_type: SELECTION_NOTIFY_EVENT,
            sequence: 0,
            time: request.time,
            requestor,
            selection: request.selection,
            target,
            property: if served { property } else { NONE },
        };
        self.conn
            .send_event(false, requestor, EventMask::NO_EVENT, notify)?;
        self.conn.flush()?;
        Ok(())
    }

    /// The drop target at root position `pos`, if any: searched from the root down, so a
    /// window manager's frame (not aware) leads to its client window (aware).
    fn target_at(&self, (x, y): (i16, i16)) -> Result<Option<Target>, Failure> {
        let mut window = self.root;
        for _ in 0..MAX_DEPTH {
            let child = match self
                .conn
                .translate_coordinates(self.root, window, x, y)?
                .reply()
            {
                Ok(reply) => reply.child,
                // The window went away between two requests: try again at the next poll.
                Err(ReplyError::X11Error(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            if child == NONE {
                // Over the bare root: only a desktop's proxy can take the drop there.
                return if window == self.root {
                    self.aware(window)
                } else {
                    Ok(None)
                };
            }
            if let Some(target) = self.aware(child)? {
                return Ok(Some(target));
            }
            window = child;
        }
        Ok(None)
    }

    /// `window` as a drop target, if it (or its proxy) is `XdndAware` at a version we speak.
    fn aware(&self, window: Window) -> Result<Option<Target>, Failure> {
        let proxy = self
            .window_property(window, self.atoms.XdndProxy, AtomEnum::WINDOW.into())?
            // A proxy is only genuine if it names itself (the spec's guard against stale ones).
            .filter(|&p| {
                let own = self.window_property(p, self.atoms.XdndProxy, AtomEnum::WINDOW.into());
                matches!(own, Ok(Some(q)) if q == p)
            });
        let deliver_to = proxy.unwrap_or(window);
        if window == self.root && proxy.is_none() {
            return Ok(None);
        }
        let version =
            self.window_property(deliver_to, self.atoms.XdndAware, AtomEnum::ATOM.into())?;
        Ok(version.filter(|&v| v >= XDND_MIN_VERSION).map(|v| Target {
            window,
            deliver_to,
            version: v.min(XDND_VERSION),
            accepted: false,
            awaiting_status: false,
            last_sent: None,
            quiet: None,
            gone: false,
        }))
    }

    /// The first 32-bit value of `window`'s `property` if it has type `type_`; None if it has
    /// not, or the window is gone.
    fn window_property(
        &self,
        window: Window,
        property: Atom,
        type_: Atom,
    ) -> Result<Option<u32>, Failure> {
        let reply = match self
            .conn
            .get_property(false, window, property, type_, 0, 1)?
            .reply()
        {
            Ok(reply) => reply,
            Err(ReplyError::X11Error(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if reply.type_ != type_ {
            return Ok(None);
        }
        Ok(reply.value32().and_then(|mut values| values.next()))
    }

    /// Leaves the current target for `under` (Leave, then Enter) when they differ.
    fn switch_to(&mut self, under: Option<Target>) -> Result<(), Failure> {
        let same = match (&self.target, &under) {
            (Some(old), Some(new)) => old.window == new.window && !old.gone,
            (None, None) => true,
            _ => false,
        };
        if same {
            return Ok(());
        }
        self.leave()?;
        if let Some(target) = under {
            // Bit 0 clear: the types are all in the message (no XdndTypeList).
            let [t0, t1, t2] = self.offered();
            self.send(
                &target,
                self.atoms.XdndEnter,
                [target.version << 24, t0, t1, t2],
            )?;
            self.target = Some(target);
        }
        Ok(())
    }

    /// Sends `XdndPosition` for `pos` unless a status is pending or the target needs none.
    fn send_position_if_needed(&mut self, pos: (i16, i16)) -> Result<(), Failure> {
        let Some(mut target) = self.target else {
            return Ok(());
        };
        if target.gone || target.awaiting_status || !target.needs_position(pos) {
            return Ok(());
        }
        let packed = (u32::from(pos.0 as u16) << 16) | u32::from(pos.1 as u16);
        let action = self.atoms.XdndActionCopy;
        self.send(
            &target,
            self.atoms.XdndPosition,
            [0, packed, self.time, action],
        )?;
        target.awaiting_status = true;
        target.last_sent = Some(pos);
        self.target = Some(target);
        Ok(())
    }

    /// Sends `XdndLeave` to the current target, if any, and forgets it.
    fn leave(&mut self) -> Result<(), Failure> {
        if let Some(target) = self.target.take() {
            if !target.gone {
                self.send(&target, self.atoms.XdndLeave, [0; 4])?;
            }
        }
        Ok(())
    }

    /// Best-effort `XdndLeave` on the way out of a failed drag.
    fn leave_quietly(&mut self) {
        let _ = self.leave();
    }

    /// Best-effort round trip: on return the server has handled every request sent before.
    fn sync_quietly(&self) {
        if let Ok(cookie) = self.conn.get_input_focus() {
            let _ = cookie.reply();
        }
    }

    /// Sends an XDND client message to `target`: data.l[0] is always our window, `rest` the
    /// other four words.
    fn send(&self, target: &Target, kind: Atom, rest: [u32; 4]) -> Result<(), Failure> {
        let [l1, l2, l3, l4] = rest;
        let data = [self.window, l1, l2, l3, l4];
        let message = ClientMessageEvent::new(32, target.window, kind, data);
        self.conn
            .send_event(false, target.deliver_to, EventMask::NO_EVENT, message)?;
        Ok(())
    }

    /// The types offered, best first: the URI list hosts want, then the URI as text.
    fn offered(&self) -> [Atom; 3] {
        let a = &self.atoms;
        [a.TEXT_URI_LIST, a.UTF8_STRING, a.TEXT_PLAIN]
    }

    /// Whether Escape is held down now.
    fn escape_held(&self) -> Result<bool, Failure> {
        if self.escape.is_empty() {
            return Ok(false);
        }
        let keys = self.conn.query_keymap()?.reply()?.keys;
        Ok(self
            .escape
            .iter()
            .any(|&k| keys[usize::from(k / 8)] & (1 << (k % 8)) != 0))
    }
}

/// The keycodes that produce Escape in the current keyboard mapping.
fn escape_keycodes(conn: &RustConnection) -> Result<Vec<Keycode>, Failure> {
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let count = max.saturating_sub(min).saturating_add(1);
    let mapping = conn.get_keyboard_mapping(min, count)?.reply()?;
    let per = usize::from(mapping.keysyms_per_keycode.max(1));
    Ok(mapping
        .keysyms
        .chunks(per)
        .zip(min..=max)
        .filter(|(syms, _)| syms.contains(&KEYSYM_ESCAPE))
        .map(|(_, keycode)| keycode)
        .collect())
}

/// An X error as a failure message.
fn x_error(error: &X11Error) -> Failure {
    Failure(format!(
        "X error {:?} (request {}, value {:#x})",
        error.error_kind,
        error.request_name.unwrap_or("unknown"),
        error.bad_value
    ))
}
