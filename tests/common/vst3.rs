//! The VST3 test host: opens the BUILT plugin binary (the same file the CLAP tests load) the way
//! a Linux VST3 host does — `dlopen`, `ModuleEntry`, `GetPluginFactory` — and drives one
//! instance through the COM interfaces: `IComponent`, `IAudioProcessor` and `IEditController`
//! (nice-plug implements all three on one object), with the host's own objects: a host context
//! (`IHostApplication`), a memory `IBStream`, an output `IEventList` and an input
//! `IParameterChanges`.
//!
//! Everything the plugin may touch inside `process()` is allocated before the call: the debug
//! plugin aborts on any allocation on the audio thread (`assert_process_allocs`), the host's
//! included.

use std::cell::{Cell, RefCell};
use std::ffi::{c_void, CStr};
use std::sync::OnceLock;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// The plugin's VST3 class id (`Vst3Plugin::VST3_CLASS_ID`).
pub const CLASS_ID: [u8; 16] = *b"LofiLoomMidiGen1";
/// How many events one `process()` call can hand the host; more are refused, not allocated.
pub const EVENT_CAPACITY: usize = 1024;
/// How many parameters one `process()` call can carry changes for.
pub const PARAM_QUEUES: usize = 4;

/// The plugin binary, opened once with `ModuleEntry` called, and never closed: as in the CLAP
/// host (`host::load_entry`), unloading it while threads it touched still run is not safe.
fn library() -> &'static libloading::Library {
    static LIBRARY: OnceLock<libloading::Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let path = super::plugin_binary::plugin_binary();
        // SAFETY: the library is this package's own plugin, built by cargo for this test run;
        // opening it runs no code of ours beyond its static initialisers.
        let library = unsafe { libloading::Library::new(&path) }
            .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
        // Linux hosts call `ModuleEntry` once, before anything else, when the plugin exports it.
        // SAFETY: the symbol's type is the one the VST3 SDK declares for it (`linuxmain.cpp`).
        let entry =
            unsafe { library.get::<unsafe extern "C" fn(*mut c_void) -> bool>(b"ModuleEntry\0") };
        if let Ok(entry) = entry {
            // SAFETY: called once, before any other entry point; the handle is optional and unused.
            assert!(unsafe { entry(std::ptr::null_mut()) }, "ModuleEntry failed");
        }
        library
    })
}

/// A plugin factory, as `GetPluginFactory` returns it (nice-plug makes a new one per call).
pub fn factory() -> ComPtr<IPluginFactory> {
    // SAFETY: `GetPluginFactory` has this type in every VST3 module (`ipluginbase.h`).
    let get = unsafe {
        library().get::<unsafe extern "system" fn() -> *mut c_void>(b"GetPluginFactory\0")
    }
    .expect("the binary exports GetPluginFactory");
    // SAFETY: the function returns an owned reference to an `IPluginFactory`, or null.
    unsafe { ComPtr::from_raw(get() as *mut IPluginFactory) }.expect("a plugin factory")
}

/// The "Audio Module Class" classes of a factory: (class id, name).
pub fn audio_classes(factory: &ComPtr<IPluginFactory>) -> Vec<([u8; 16], String)> {
    let mut out = Vec::new();
    // SAFETY: `factory` is a live factory; `PClassInfo` is plain data the call fills in.
    unsafe {
        for index in 0..factory.countClasses() {
            let mut info: PClassInfo = std::mem::zeroed();
            assert_eq!(factory.getClassInfo(index, &mut info), kResultOk);
            let category = CStr::from_ptr(info.category.as_ptr()).to_string_lossy();
            if category == "Audio Module Class" {
                let name = CStr::from_ptr(info.name.as_ptr()).to_string_lossy();
                out.push((info.cid.map(|b| b as u8), name.into_owned()));
            }
        }
    }
    out
}

/// The host context handed to `initialize`: a name, and no objects to create.
pub struct HostApp;

impl Class for HostApp {
    type Interfaces = (IHostApplication,);
}

impl IHostApplicationTrait for HostApp {
    unsafe fn getName(&self, name: *mut String128) -> tresult {
        if name.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: the caller passes a `String128` to fill in.
        let name = unsafe { &mut *name };
        name.fill(0);
        for (slot, unit) in name
            .iter_mut()
            .zip("Lofi Loom VST3 test host".encode_utf16())
        {
            *slot = unit;
        }
        kResultOk
    }

    unsafe fn createInstance(
        &self,
        _cid: *mut TUID,
        _iid: *mut TUID,
        obj: *mut *mut c_void,
    ) -> tresult {
        if !obj.is_null() {
            // SAFETY: the caller passes somewhere to write the object pointer.
            unsafe { *obj = std::ptr::null_mut() };
        }
        kNotImplemented
    }
}

/// A memory stream, as hosts save presets and projects into.
#[derive(Default)]
pub struct MemoryStream {
    /// What was written.
    pub data: RefCell<Vec<u8>>,
    /// The read/write position.
    pub pos: Cell<usize>,
}

impl Class for MemoryStream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for MemoryStream {
    unsafe fn read(&self, buffer: *mut c_void, num_bytes: int32, num_read: *mut int32) -> tresult {
        let data = self.data.borrow();
        let pos = self.pos.get().min(data.len());
        let count = usize::try_from(num_bytes)
            .unwrap_or(0)
            .min(data.len() - pos);
        if count > 0 {
            // SAFETY: the caller's buffer holds `num_bytes` ≥ `count` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(data[pos..].as_ptr(), buffer as *mut u8, count)
            };
        }
        self.pos.set(pos + count);
        if !num_read.is_null() {
            // SAFETY: the caller passes somewhere to write the count.
            unsafe { *num_read = count as int32 };
        }
        kResultOk
    }

    unsafe fn write(
        &self,
        buffer: *mut c_void,
        num_bytes: int32,
        num_written: *mut int32,
    ) -> tresult {
        let Ok(count) = usize::try_from(num_bytes) else {
            return kInvalidArgument;
        };
        let mut data = self.data.borrow_mut();
        let pos = self.pos.get();
        if data.len() < pos + count {
            data.resize(pos + count, 0);
        }
        if count > 0 {
            // SAFETY: the caller's buffer holds `num_bytes` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(buffer as *const u8, count) };
            data[pos..pos + count].copy_from_slice(bytes);
        }
        self.pos.set(pos + count);
        if !num_written.is_null() {
            // SAFETY: the caller passes somewhere to write the count.
            unsafe { *num_written = num_bytes };
        }
        kResultOk
    }

    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        use vst3::Steinberg::IBStream_::IStreamSeekMode_::*;
        let base = match mode {
            m if m == kIBSeekSet as int32 => 0,
            m if m == kIBSeekCur as int32 => self.pos.get() as int64,
            m if m == kIBSeekEnd as int32 => self.data.borrow().len() as int64,
            _ => return kInvalidArgument,
        };
        let Ok(new_pos) = usize::try_from(base + pos) else {
            return kInvalidArgument;
        };
        self.pos.set(new_pos);
        if !result.is_null() {
            // SAFETY: the caller passes somewhere to write the position.
            unsafe { *result = new_pos as int64 };
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if pos.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: checked non-null; the caller passes somewhere to write the position.
        unsafe { *pos = self.pos.get() as int64 };
        kResultOk
    }
}

/// The host's output event list: what the plugin sends in one `process()` call.
pub struct EventList {
    /// Received events; its capacity is reserved up front and never grown during `process()`.
    pub events: RefCell<Vec<Event>>,
}

impl Default for EventList {
    fn default() -> Self {
        EventList {
            events: RefCell::new(Vec::with_capacity(EVENT_CAPACITY)),
        }
    }
}

impl Class for EventList {
    type Interfaces = (IEventList,);
}

impl IEventListTrait for EventList {
    unsafe fn getEventCount(&self) -> int32 {
        self.events.borrow().len() as int32
    }

    unsafe fn getEvent(&self, index: int32, e: *mut Event) -> tresult {
        let events = self.events.borrow();
        match usize::try_from(index).ok().and_then(|i| events.get(i)) {
            Some(event) if !e.is_null() => {
                // SAFETY: checked non-null; the caller passes an `Event` to fill in.
                unsafe { *e = *event };
                kResultOk
            }
            _ => kInvalidArgument,
        }
    }

    unsafe fn addEvent(&self, e: *mut Event) -> tresult {
        let mut events = self.events.borrow_mut();
        // A full list refuses the event, as a host's fixed buffer would, instead of allocating.
        if e.is_null() || events.len() == events.capacity() {
            return kResultFalse;
        }
        // SAFETY: checked non-null; the plugin passes a filled-in `Event`.
        events.push(unsafe { *e });
        kResultOk
    }
}

/// One parameter's changes in a block: a single point.
pub struct ParamQueue {
    /// Which parameter.
    id: Cell<ParamID>,
    /// (sample offset, normalized value).
    point: Cell<(int32, ParamValue)>,
}

impl Class for ParamQueue {
    type Interfaces = (IParamValueQueue,);
}

impl IParamValueQueueTrait for ParamQueue {
    unsafe fn getParameterId(&self) -> ParamID {
        self.id.get()
    }

    unsafe fn getPointCount(&self) -> int32 {
        1
    }

    unsafe fn getPoint(
        &self,
        index: int32,
        sample_offset: *mut int32,
        value: *mut ParamValue,
    ) -> tresult {
        if index != 0 || sample_offset.is_null() || value.is_null() {
            return kInvalidArgument;
        }
        let (offset, v) = self.point.get();
        // SAFETY: checked non-null; the caller passes somewhere to write both.
        unsafe {
            *sample_offset = offset;
            *value = v;
        }
        kResultOk
    }

    unsafe fn addPoint(&self, _offset: int32, _value: ParamValue, _index: *mut int32) -> tresult {
        kResultFalse
    }
}

/// The host's input parameter changes of one block: up to [`PARAM_QUEUES`] parameters, one
/// point each.
pub struct ParamChanges {
    /// The queues, made once; the first `count` are in use.
    queues: Vec<ComPtr<IParamValueQueue>>,
    /// The same queues, to fill in.
    data: Vec<ComWrapper<ParamQueue>>,
    /// How many queues this block carries.
    count: Cell<usize>,
}

impl ParamChanges {
    fn new() -> Self {
        let data: Vec<_> = (0..PARAM_QUEUES)
            .map(|_| {
                ComWrapper::new(ParamQueue {
                    id: Cell::new(0),
                    point: Cell::new((0, 0.0)),
                })
            })
            .collect();
        let queues = data
            .iter()
            .map(|q| q.to_com_ptr::<IParamValueQueue>().expect("a queue"))
            .collect();
        ParamChanges {
            queues,
            data,
            count: Cell::new(0),
        }
    }

    /// Sets the block's changes: each (parameter, value) at sample offset 0.
    fn set(&self, changes: &[(ParamID, ParamValue)]) {
        assert!(changes.len() <= PARAM_QUEUES, "too many parameter changes");
        for (queue, &(id, value)) in self.data.iter().zip(changes) {
            queue.id.set(id);
            queue.point.set((0, value));
        }
        self.count.set(changes.len());
    }
}

impl Class for ParamChanges {
    type Interfaces = (IParameterChanges,);
}

impl IParameterChangesTrait for ParamChanges {
    unsafe fn getParameterCount(&self) -> int32 {
        self.count.get() as int32
    }

    unsafe fn getParameterData(&self, index: int32) -> *mut IParamValueQueue {
        match usize::try_from(index) {
            Ok(i) if i < self.count.get() => self.queues[i].as_ptr(),
            _ => std::ptr::null_mut(),
        }
    }

    unsafe fn addParameterData(
        &self,
        _id: *const ParamID,
        _index: *mut int32,
    ) -> *mut IParamValueQueue {
        std::ptr::null_mut()
    }
}

/// A host transport for one block: playing or stopped at a song sample, on a fixed tempo, 4/4.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    /// Whether the host plays.
    pub playing: bool,
    /// Song position of the block's first sample, in samples.
    pub song_sample: i64,
    /// Tempo, in BPM.
    pub bpm: f64,
}

/// A note event as the host received it through the event bus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vst3Note {
    /// Sample offset inside the block.
    pub offset: i32,
    /// Note-on (true) or note-off.
    pub on: bool,
    /// Event bus.
    pub bus: i32,
    /// MIDI channel index, 0–15.
    pub channel: i16,
    /// MIDI key.
    pub pitch: i16,
    /// Velocity, 0–1.
    pub velocity: f32,
}

/// A note-on for the event input bus: sample offset, channel index, key, velocity 0–1.
pub fn note_on_event(offset: i32, channel: i16, pitch: i16, velocity: f32) -> Event {
    // SAFETY: `Event` is plain data; all zeros is a valid (empty) event, filled in below.
    let mut e: Event = unsafe { std::mem::zeroed() };
    e.sampleOffset = offset;
    e.r#type = Event_::EventTypes_::kNoteOnEvent as u16;
    e.__field0.noteOn = NoteOnEvent {
        channel,
        pitch,
        tuning: 0.0,
        velocity,
        length: 0,
        noteId: -1,
    };
    e
}

/// A note-off for the event input bus.
pub fn note_off_event(offset: i32, channel: i16, pitch: i16) -> Event {
    // SAFETY: as in `note_on_event`.
    let mut e: Event = unsafe { std::mem::zeroed() };
    e.sampleOffset = offset;
    e.r#type = Event_::EventTypes_::kNoteOffEvent as u16;
    e.__field0.noteOff = NoteOffEvent {
        channel,
        pitch,
        velocity: 0.0,
        noteId: -1,
        tuning: 0.0,
    };
    e
}

/// What one `process()` call returned.
#[derive(Debug, Clone)]
pub struct Block {
    /// The call's result.
    pub result: tresult,
    /// Samples in the block.
    pub len: i32,
    /// Note events, in the order received.
    pub notes: Vec<Vst3Note>,
    /// Events other than notes.
    pub other_events: usize,
    /// Whether both output channels came back all zeros.
    pub silent: bool,
}

/// One plugin instance, initialised with a host context. Terminated and released on drop.
pub struct Vst3Plugin {
    /// The component (state, busses, activation).
    pub component: ComPtr<IComponent>,
    /// The same object's audio processor.
    pub processor: ComPtr<IAudioProcessor>,
    /// The same object's edit controller (parameters).
    pub controller: ComPtr<IEditController>,
    /// Kept alive as long as the plugin may call it.
    _host: ComWrapper<HostApp>,
    /// Output channels, one block each.
    left: Vec<f32>,
    /// See `left`.
    right: Vec<f32>,
    /// Events the plugin sends.
    events: ComWrapper<EventList>,
    /// Events the host sends the plugin in the next block (its event input bus).
    input: ComWrapper<EventList>,
    /// Parameter changes of the next block.
    changes: ComWrapper<ParamChanges>,
    /// The process mode of the last `setupProcessing`.
    mode: int32,
    /// The sample rate of the last `setupProcessing`.
    rate: f64,
}

impl Vst3Plugin {
    /// Creates the plugin's component from a new factory and initialises it.
    pub fn new() -> Vst3Plugin {
        let factory = factory();
        let classes = audio_classes(&factory);
        assert_eq!(
            classes.iter().map(|c| c.0).collect::<Vec<_>>(),
            [CLASS_ID],
            "one audio module class, Lofi Loom's: {classes:?}"
        );
        let mut obj = std::ptr::null_mut();
        // SAFETY: a class id from the factory and a known interface id; `obj` receives an owned
        // reference to an `IComponent` on success.
        let component = unsafe {
            let result = factory.createInstance(
                classes[0].0.as_ptr() as FIDString,
                IComponent::IID.as_ptr() as FIDString,
                &mut obj,
            );
            assert_eq!(result, kResultOk, "createInstance");
            ComPtr::from_raw(obj as *mut IComponent).expect("a component")
        };
        let processor = component
            .cast::<IAudioProcessor>()
            .expect("IAudioProcessor");
        let controller = component
            .cast::<IEditController>()
            .expect("IEditController");
        let host = ComWrapper::new(HostApp);
        let context = host
            .to_com_ptr::<IHostApplication>()
            .expect("a host context");
        // SAFETY: a live host context, kept alive (as `_host`) until the plugin is released.
        let result = unsafe { component.initialize(context.as_ptr() as *mut FUnknown) };
        assert_eq!(result, kResultOk, "initialize");
        Vst3Plugin {
            component,
            processor,
            controller,
            _host: host,
            left: Vec::new(),
            right: Vec::new(),
            events: ComWrapper::new(EventList::default()),
            input: ComWrapper::new(EventList::default()),
            changes: ComWrapper::new(ParamChanges::new()),
            mode: ProcessModes_::kRealtime as int32,
            rate: 48_000.0,
        }
    }

    /// Queues note events for the event input bus of the next `process()` call.
    pub fn send_input(&self, events: &[Event]) {
        self.input.events.borrow_mut().extend_from_slice(events);
    }

    /// The parameter a host sends MIDI controller `cc` (0–127; 128 channel pressure, 129 pitch
    /// bend) of `channel` on, asked of the controller's `IMidiMapping` as a host asks it.
    pub fn midi_controller_param(&self, channel: i16, cc: i16) -> ParamID {
        let mapping = self
            .controller
            .cast::<IMidiMapping>()
            .expect("the controller maps MIDI controllers (IMidiMapping)");
        let mut id: ParamID = 0;
        // SAFETY: a live interface of the controller; `id` receives the answer.
        let result = unsafe { mapping.getMidiControllerAssignment(0, channel, cc, &mut id) };
        assert_eq!(
            result, kResultOk,
            "controller {cc} of channel {channel} is mapped"
        );
        id
    }

    /// Every parameter's info, in the controller's order.
    pub fn parameters(&self) -> Vec<ParameterInfo> {
        // SAFETY: a live controller; `ParameterInfo` is plain data the call fills in.
        unsafe {
            (0..self.controller.getParameterCount())
                .map(|index| {
                    let mut info: ParameterInfo = std::mem::zeroed();
                    assert_eq!(
                        self.controller.getParameterInfo(index, &mut info),
                        kResultOk
                    );
                    info
                })
                .collect()
        }
    }

    /// The id of the parameter titled `title`.
    pub fn param_id(&self, title: &str) -> ParamID {
        let wanted: Vec<u16> = title.encode_utf16().collect();
        self.parameters()
            .iter()
            .find(|info| {
                let end = info.title.iter().position(|&c| c == 0).unwrap_or(128);
                info.title[..end] == wanted[..]
            })
            .unwrap_or_else(|| panic!("no parameter titled {title}"))
            .id
    }

    /// `getParamNormalized`.
    pub fn get(&self, id: ParamID) -> ParamValue {
        // SAFETY: a live controller.
        unsafe { self.controller.getParamNormalized(id) }
    }

    /// `setParamNormalized`.
    pub fn set(&self, id: ParamID, value: ParamValue) -> tresult {
        // SAFETY: a live controller.
        unsafe { self.controller.setParamNormalized(id, value) }
    }

    /// `getBusCount`.
    pub fn bus_count(&self, media: MediaType, direction: BusDirection) -> i32 {
        // SAFETY: a live component.
        unsafe { self.component.getBusCount(media, direction) }
    }

    /// `setupProcessing` with 32-bit samples and blocks of up to `max_block` samples.
    pub fn setup(&mut self, mode: ProcessModes, rate: f64, max_block: i32) {
        let mut setup = ProcessSetup {
            processMode: mode as int32,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as int32,
            maxSamplesPerBlock: max_block,
            sampleRate: rate,
        };
        // SAFETY: a live processor and a filled-in setup.
        assert_eq!(
            unsafe { self.processor.setupProcessing(&mut setup) },
            kResultOk,
            "setupProcessing"
        );
        self.mode = mode as int32;
        self.rate = rate;
        let len = usize::try_from(max_block).expect("a block size");
        self.left = vec![0.0; len];
        self.right = vec![0.0; len];
    }

    /// `IComponent::setActive`.
    pub fn set_active(&self, active: bool) -> tresult {
        // SAFETY: a live component.
        unsafe { self.component.setActive(TBool::from(active)) }
    }

    /// `IAudioProcessor::setProcessing`.
    pub fn set_processing(&self, processing: bool) -> tresult {
        // SAFETY: a live processor.
        unsafe { self.processor.setProcessing(TBool::from(processing)) }
    }

    /// `IComponent::getState` into a new memory stream.
    pub fn get_state(&self) -> Vec<u8> {
        let stream = ComWrapper::new(MemoryStream::default());
        let ptr = stream.to_com_ptr::<IBStream>().expect("a stream");
        // SAFETY: a live component and stream.
        assert_eq!(
            unsafe { self.component.getState(ptr.as_ptr()) },
            kResultOk,
            "getState"
        );
        stream.data.take()
    }

    /// Loads `bytes` as a host loads a preset: `IComponent::setState`, then the same stream,
    /// rewound, to `IEditController::setComponentState`. Returns both results.
    pub fn set_state(&self, bytes: &[u8]) -> (tresult, tresult) {
        let stream = ComWrapper::new(MemoryStream {
            data: RefCell::new(bytes.to_vec()),
            pos: Cell::new(0),
        });
        let ptr = stream.to_com_ptr::<IBStream>().expect("a stream");
        // SAFETY: a live component, controller and stream.
        unsafe {
            let component = self.component.setState(ptr.as_ptr());
            stream.pos.set(0);
            let controller = self.controller.setComponentState(ptr.as_ptr());
            (component, controller)
        }
    }

    /// One `process()` call of `len` samples (0 is a parameter flush: no audio buffers, as the
    /// validator sends it), with `changes` at sample offset 0 and `transport` as the process
    /// context. The output channels are filled with non-zero garbage first, so `silent` means
    /// the plugin wrote zeros.
    // VST3 enums are `c_uint` here and `c_int` on Windows: the casts are for the latter.
    #[allow(clippy::unnecessary_cast)]
    pub fn process(
        &mut self,
        len: i32,
        transport: Option<Transport>,
        changes: &[(ParamID, ParamValue)],
    ) -> Block {
        let n = usize::try_from(len).expect("a block length");
        assert!(n <= self.left.len(), "block longer than set up");
        self.left[..n].fill(0.25);
        self.right[..n].fill(0.25);
        self.changes.set(changes);
        self.events.events.borrow_mut().clear();
        let input = self
            .input
            .to_com_ptr::<IEventList>()
            .expect("an event list");
        let events = self
            .events
            .to_com_ptr::<IEventList>()
            .expect("an event list");
        let changes = self
            .changes
            .to_com_ptr::<IParameterChanges>()
            .expect("parameter changes");
        let mut channels = [self.left.as_mut_ptr(), self.right.as_mut_ptr()];
        // SAFETY: `AudioBusBuffers` is plain data (all zeros is valid: no channels).
        let mut output: AudioBusBuffers = unsafe { std::mem::zeroed() };
        output.numChannels = 2;
        output.__field0.channelBuffers32 = channels.as_mut_ptr();
        let mut context = transport.map(|t| self.context(t));
        let mut data = ProcessData {
            processMode: self.mode,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as int32,
            numSamples: len,
            numInputs: 0,
            numOutputs: if len > 0 { 1 } else { 0 },
            inputs: std::ptr::null_mut(),
            outputs: if len > 0 {
                &mut output
            } else {
                std::ptr::null_mut()
            },
            inputParameterChanges: changes.as_ptr(),
            outputParameterChanges: std::ptr::null_mut(),
            inputEvents: input.as_ptr(),
            outputEvents: events.as_ptr(),
            processContext: context
                .as_mut()
                .map_or(std::ptr::null_mut(), |c| c as *mut ProcessContext),
        };
        // SAFETY: every pointer in `data` is live for the call: the channels hold `len`
        // samples each, and the event list and parameter changes are this host's objects.
        let result = unsafe { self.processor.process(&mut data) };
        self.input.events.borrow_mut().clear();
        let silent = self.left[..n]
            .iter()
            .chain(&self.right[..n])
            .all(|&s| s == 0.0);
        let mut notes = Vec::new();
        let mut other_events = 0;
        for e in self.events.events.borrow().iter() {
            let note = match u32::from(e.r#type) {
                t if t == Event_::EventTypes_::kNoteOnEvent as u32 => {
                    // SAFETY: the event's type says which union field is set.
                    let on = unsafe { e.__field0.noteOn };
                    (true, on.channel, on.pitch, on.velocity)
                }
                t if t == Event_::EventTypes_::kNoteOffEvent as u32 => {
                    // SAFETY: as above.
                    let off = unsafe { e.__field0.noteOff };
                    (false, off.channel, off.pitch, off.velocity)
                }
                _ => {
                    other_events += 1;
                    continue;
                }
            };
            notes.push(Vst3Note {
                offset: e.sampleOffset,
                on: note.0,
                bus: e.busIndex,
                channel: note.1,
                pitch: note.2,
                velocity: note.3,
            });
        }
        Block {
            result,
            len,
            notes,
            other_events,
            silent,
        }
    }

    /// The process context of a block: tempo, 4/4, the song position in samples and quarter
    /// notes, the bar's start, and whether the transport plays.
    // VST3 enums are `c_uint` here and `c_int` on Windows: the casts are for the latter.
    #[allow(clippy::unnecessary_cast)]
    fn context(&self, t: Transport) -> ProcessContext {
        use ProcessContext_::StatesAndFlags_::*;
        let beats = t.song_sample as f64 / self.rate * t.bpm / 60.0;
        // SAFETY: `ProcessContext` is plain data; all zeros is a valid (empty) context.
        let mut context: ProcessContext = unsafe { std::mem::zeroed() };
        context.state =
            (kTempoValid | kTimeSigValid | kProjectTimeMusicValid | kBarPositionValid) as u32;
        if t.playing {
            context.state |= kPlaying as u32;
        }
        context.sampleRate = self.rate;
        context.projectTimeSamples = t.song_sample;
        context.projectTimeMusic = beats;
        context.barPositionMusic = (beats / 4.0).floor() * 4.0;
        context.tempo = t.bpm;
        context.timeSigNumerator = 4;
        context.timeSigDenominator = 4;
        context
    }
}

impl Drop for Vst3Plugin {
    fn drop(&mut self) {
        // A host's teardown: stop, deactivate, terminate; the references are released after.
        self.set_processing(false);
        self.set_active(false);
        // SAFETY: a live component, not used again.
        unsafe { self.component.terminate() };
    }
}
