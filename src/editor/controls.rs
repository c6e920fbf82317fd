//! Parameter controls and the gesture bookkeeping behind them.
//!
//! Every change the editor makes goes through [`Gestures::edit`], which keeps begin/set/end
//! paired per parameter whatever the widget does: a click is begin + set + end in one frame,
//! a drag is begin on press, sets while held, end on release. Hosts then record clean
//! automation, and a parameter is never left "being touched".

use super::theme;
use egui::{
    pos2, vec2, Align2, Color32, CornerRadius, FontId, Id, Rect, Response, Sense, Stroke,
    StrokeKind, Ui,
};
use nice_plug::prelude::{
    BoolParam, Enum, EnumParam, FloatParam, IntParam, Param, ParamPtr, ParamSetter,
};

/// Parameters with an open gesture (begun, not yet ended), each with the widget that owns it.
///
/// Two widgets may drive one parameter (the XY pad and the Energy bar both set energy): only
/// the widget that began a gesture ends it, so an idle widget never cuts short another's drag.
#[derive(Debug, Default)]
pub struct Gestures {
    /// The parameters being touched, and by which widget.
    open: Vec<(ParamPtr, Id)>,
}

impl Gestures {
    /// One frame of widget `owner` controlling `param`: `held` while the pointer holds it,
    /// `normalized` when it asks for a new value. Begins a gesture before the first set, ends
    /// it once the owner lets go.
    pub fn edit(
        &mut self,
        setter: &ParamSetter,
        owner: Id,
        param: &impl Param,
        held: bool,
        normalized: Option<f32>,
    ) {
        let ptr = param.as_ptr();
        let open = self.open.iter().position(|(p, _)| *p == ptr);
        if open.is_none() && (held || normalized.is_some()) {
            setter.begin_set_parameter(param);
            self.open.push((ptr, owner));
        }
        if let Some(value) = normalized {
            setter.set_parameter_normalized(param, value.clamp(0.0, 1.0));
        }
        if !held {
            if let Some(i) = self.open.iter().position(|&(p, o)| p == ptr && o == owner) {
                setter.end_set_parameter(param);
                self.open.swap_remove(i);
            }
        }
    }

    /// Whether any gesture is open.
    pub fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Ends every open gesture (the window closes while a control is held).
    pub fn end_all(&mut self, setter: &ParamSetter) {
        for (ptr, _) in self.open.drain(..) {
            // SAFETY: the pointer came from a parameter of the plugin's own `Params`, which
            // outlive the editor; the host checks that it knows the parameter.
            unsafe { setter.raw_context.raw_end_set_parameter(ptr) };
        }
    }
}

/// Owner of one-frame changes (clicks, menus, checkboxes): they begin and end in one call.
pub(super) fn click_owner() -> Id {
    Id::unique("lofi-loom-click")
}

/// Whether the pointer holds `response` (pressed on it, or dragging it).
pub(super) fn held(response: &Response) -> bool {
    response.is_pointer_button_down_on() || response.dragged()
}

/// A horizontal value bar: a label, a filled track and the parameter's value as text. Drag or
/// click to set, double-click for the default. `height` is in points.
pub fn value_bar(
    ui: &mut Ui,
    gestures: &mut Gestures,
    setter: &ParamSetter,
    param: &FloatParam,
    label: &str,
    colour: Color32,
    height: f32,
) -> Response {
    let width = ui.available_width();
    let (rect, response) = ui.allocate_exact_size(vec2(width, height), Sense::click_and_drag());
    let mut value = None;
    if response.double_clicked() {
        value = Some(param.default_normalized_value());
    } else if held(&response) {
        if let Some(pointer) = response.interact_pointer_pos() {
            let n = (pointer.x - rect.left()) / rect.width().max(1.0);
            let n = param.preview_normalized(param.preview_plain(n.clamp(0.0, 1.0)));
            if (n - param.unmodulated_normalized_value()).abs() > f32::EPSILON {
                value = Some(n);
            }
        }
    }
    gestures.edit(setter, response.id, param, held(&response), value);

    let painter = ui.painter_at(rect);
    let radius = CornerRadius::same((height / 4.0).clamp(3.0, 10.0) as u8);
    painter.rect_filled(rect, radius, theme::INSET);
    let n = param.unmodulated_normalized_value();
    let filled = Rect::from_min_size(rect.min, vec2(rect.width() * n, rect.height()));
    painter.rect_filled(filled, radius, colour.gamma_multiply(0.55));
    painter.line_segment(
        [
            pos2(filled.right(), rect.top()),
            pos2(filled.right(), rect.bottom()),
        ],
        Stroke::new(2.0, colour),
    );
    let stroke = if response.hovered() || held(&response) {
        Stroke::new(1.0, colour)
    } else {
        Stroke::new(1.0, theme::GRID)
    };
    painter.rect_stroke(rect, radius, stroke, StrokeKind::Inside);
    let font = FontId::proportional((height * 0.45).clamp(12.0, 20.0));
    let pad = height * 0.35;
    painter.text(
        pos2(rect.left() + pad, rect.center().y),
        Align2::LEFT_CENTER,
        label,
        font.clone(),
        theme::TEXT,
    );
    painter.text(
        pos2(rect.right() - pad, rect.center().y),
        Align2::RIGHT_CENTER,
        param.to_string(),
        font,
        theme::TEXT,
    );
    response.on_hover_text("Drag to set, double-click for the default")
}

/// A drop-down for an enum parameter.
pub fn enum_combo<T: Enum + PartialEq + 'static>(
    ui: &mut Ui,
    gestures: &mut Gestures,
    setter: &ParamSetter,
    param: &EnumParam<T>,
    width: f32,
) -> Response {
    enum_combo_showing(ui, gestures, setter, param, width, &param.to_string())
}

/// A drop-down for an enum parameter that shows `selected` (a short form of the value, where
/// the full name does not fit) while closed; the list shows the full names.
pub fn enum_combo_showing<T: Enum + PartialEq + 'static>(
    ui: &mut Ui,
    gestures: &mut Gestures,
    setter: &ParamSetter,
    param: &EnumParam<T>,
    width: f32,
    selected: &str,
) -> Response {
    let current = param.value().to_index();
    let mut chosen = None;
    let response = egui::ComboBox::from_id_salt(param.name())
        .width(width)
        .selected_text(selected)
        .show_ui(ui, |ui| {
            for (i, name) in T::variants().iter().enumerate() {
                if ui.selectable_label(i == current, *name).clicked() && i != current {
                    chosen = Some(i);
                }
            }
        })
        .response;
    let value = chosen.map(|i| param.preview_normalized(T::from_index(i)));
    gestures.edit(setter, click_owner(), param, false, value);
    response
}

/// A drop-down for an integer parameter, each value shown by `text`.
pub fn int_combo(
    ui: &mut Ui,
    gestures: &mut Gestures,
    setter: &ParamSetter,
    param: &IntParam,
    range: std::ops::RangeInclusive<i32>,
    text: impl Fn(i32) -> String,
    width: f32,
) -> Response {
    let current = param.value();
    let mut chosen = None;
    let response = egui::ComboBox::from_id_salt(param.name())
        .width(width)
        .selected_text(text(current))
        .show_ui(ui, |ui| {
            for v in range {
                if ui.selectable_label(v == current, text(v)).clicked() && v != current {
                    chosen = Some(v);
                }
            }
        })
        .response;
    gestures.edit(
        setter,
        click_owner(),
        param,
        false,
        chosen.map(|v| param.preview_normalized(v)),
    );
    response
}

/// A checkbox for a bool parameter.
pub fn toggle(
    ui: &mut Ui,
    gestures: &mut Gestures,
    setter: &ParamSetter,
    param: &BoolParam,
    label: &str,
) -> Response {
    let mut on = param.value();
    let response = ui.checkbox(&mut on, label);
    let value = response.changed().then(|| param.preview_normalized(on));
    gestures.edit(setter, click_owner(), param, false, value);
    response
}

/// Flips a bool parameter as one complete gesture (the Regenerate button: any flip means
/// "write a new phrase").
pub fn flip(gestures: &mut Gestures, setter: &ParamSetter, param: &BoolParam) {
    let flipped = param.preview_normalized(!param.value());
    gestures.edit(setter, click_owner(), param, false, Some(flipped));
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::prelude::{GuiContextInner, ParamPtr, PluginApi, PluginState};
    use std::sync::Mutex;

    /// A GUI context that writes down what the editor asks of the host.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<String>>,
        names: Mutex<Vec<(ParamPtr, String)>>,
    }

    impl Recorder {
        fn name(&self, param: ParamPtr) -> String {
            let names = self.names.lock().unwrap();
            names
                .iter()
                .find(|(p, _)| *p == param)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        }
        fn push(&self, call: String) {
            self.calls.lock().unwrap().push(call);
        }
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.calls.lock().unwrap())
        }
    }

    impl GuiContextInner for Recorder {
        fn plugin_api(&self) -> PluginApi {
            PluginApi::Clap
        }
        unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
            self.push(format!("begin {}", self.name(param)));
        }
        unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
            self.push(format!("set {} {normalized}", self.name(param)));
        }
        unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
            self.push(format!("end {}", self.name(param)));
        }
        fn get_state(&self) -> PluginState {
            unimplemented!()
        }
        fn set_state(&self, _state: PluginState) {}
        fn request_restart(&self) {}
    }

    #[test]
    fn gestures_pair_begin_and_end() {
        let params = crate::plugin::params::LofiParams::default();
        let recorder = Recorder::default();
        {
            let mut names = recorder.names.lock().unwrap();
            names.push((params.energy.as_ptr(), "Energy".to_owned()));
            names.push((params.valence.as_ptr(), "Valence".to_owned()));
            names.push((params.regenerate.as_ptr(), "Regenerate".to_owned()));
        }
        let setter = ParamSetter::new(&recorder);
        let mut g = Gestures::default();

        let pad = Id::unique("pad");
        let bar = Id::unique("energy bar");
        let click = click_owner();

        // The XY pad: press (both begin, both set), drag (both set), release (both end).
        g.edit(&setter, pad, &params.energy, true, Some(0.25));
        g.edit(&setter, pad, &params.valence, true, Some(0.75));
        assert_eq!(
            recorder.take(),
            [
                "begin Energy",
                "set Energy 0.25",
                "begin Valence",
                "set Valence 0.75"
            ]
        );
        assert!(g.any_open());
        g.edit(&setter, pad, &params.energy, true, Some(0.5));
        g.edit(&setter, pad, &params.valence, true, None);
        // The Energy bar, idle in the same frame, leaves the pad's gesture alone.
        g.edit(&setter, bar, &params.energy, false, None);
        assert_eq!(recorder.take(), ["set Energy 0.5"]);
        g.edit(&setter, pad, &params.energy, false, None);
        g.edit(&setter, pad, &params.valence, false, None);
        assert_eq!(recorder.take(), ["end Energy", "end Valence"]);
        assert!(!g.any_open());

        // The bar drags energy while the idle pad draws: one gesture, ended by the bar.
        g.edit(&setter, bar, &params.energy, true, Some(0.3));
        g.edit(&setter, pad, &params.energy, false, None);
        g.edit(&setter, pad, &params.valence, false, None);
        g.edit(&setter, bar, &params.energy, true, Some(0.35));
        g.edit(&setter, pad, &params.energy, false, None);
        assert_eq!(
            recorder.take(),
            ["begin Energy", "set Energy 0.3", "set Energy 0.35"]
        );
        // The window closes mid-drag: the host hears the end.
        g.end_all(&setter);
        assert_eq!(recorder.take(), ["end Energy"]);
        assert!(!g.any_open());

        // A click: begin, set, end in one frame. An idle frame: nothing.
        g.edit(&setter, click, &params.regenerate, false, Some(1.0));
        assert_eq!(
            recorder.take(),
            ["begin Regenerate", "set Regenerate 1", "end Regenerate"]
        );
        g.edit(&setter, click, &params.regenerate, false, None);
        assert!(recorder.take().is_empty());
    }
}
