//! The Mood card: the XY pad and the big Energy and Valence bars.

use super::{controls, pad, theme, LoomApp};
use egui::{vec2, Ui};
use nice_plug::prelude::ParamSetter;

impl LoomApp {
    /// The XY pad and the big Energy and Valence bars.
    pub(super) fn mood(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.shared.params.clone();
        let width = ui.available_width();
        let pad_height = (ui.available_height() - 2.0 * 40.0 - 2.0 * 8.0).clamp(120.0, 220.0);
        pad::xy_pad(
            ui,
            &mut self.gestures,
            setter,
            &params.energy,
            &params.valence,
            vec2(width, pad_height),
        );
        ui.add_space(4.0);
        controls::value_bar(
            ui,
            &mut self.gestures,
            setter,
            &params.energy,
            "Energy",
            theme::ACCENT,
            40.0,
        );
        controls::value_bar(
            ui,
            &mut self.gestures,
            setter,
            &params.valence,
            "Valence",
            theme::CHORDS,
            40.0,
        );
    }
}
