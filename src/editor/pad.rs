//! The XY pad: energy left to right, valence bottom to top, one gesture for both parameters.
//! The widget and the geometry it draws with (pure, tested without a window).

use super::controls::{held, Gestures};
use super::theme;
use egui::{
    pos2, Align2, CornerRadius, FontId, Pos2, Rect, Response, Sense, Stroke, StrokeKind, Ui,
};
use nice_plug::prelude::{FloatParam, Param, ParamSetter};

/// Energy and valence (each 0–1) for a pointer at `pointer` over the pad `pad`: energy grows
/// to the right, valence (brighter, happier) upwards. Outside the pad the values clamp.
pub fn pad_values(pad: Rect, pointer: Pos2) -> (f32, f32) {
    let energy = (pointer.x - pad.left()) / pad.width().max(f32::EPSILON);
    let valence = (pad.bottom() - pointer.y) / pad.height().max(f32::EPSILON);
    (energy.clamp(0.0, 1.0), valence.clamp(0.0, 1.0))
}

/// Where the pad draws its marker for `energy` and `valence` (the inverse of [`pad_values`]).
pub fn pad_position(pad: Rect, energy: f32, valence: f32) -> Pos2 {
    pos2(
        pad.left() + energy.clamp(0.0, 1.0) * pad.width(),
        pad.bottom() - valence.clamp(0.0, 1.0) * pad.height(),
    )
}

/// The XY pad: energy left to right, valence bottom to top, one gesture for both parameters
/// (both begin on press, both follow the pointer, both end on release).
pub fn xy_pad(
    ui: &mut Ui,
    gestures: &mut Gestures,
    setter: &ParamSetter,
    energy: &FloatParam,
    valence: &FloatParam,
    size: egui::Vec2,
) -> Response {
    let (rect, response) = ui.allocate_exact_size(size, Sense::drag());
    let is_held = held(&response);
    let values = if is_held {
        response.interact_pointer_pos().map(|p| pad_values(rect, p))
    } else {
        None
    };
    gestures.edit(
        setter,
        response.id,
        energy,
        is_held,
        values.map(|(e, _)| energy.preview_normalized(energy.preview_plain(e))),
    );
    gestures.edit(
        setter,
        response.id,
        valence,
        is_held,
        values.map(|(_, v)| valence.preview_normalized(valence.preview_plain(v))),
    );

    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(8), theme::INSET);
    for i in 1..4 {
        let t = i as f32 / 4.0;
        let x = rect.left() + t * rect.width();
        let y = rect.top() + t * rect.height();
        let grid = Stroke::new(1.0, theme::GRID);
        painter.line_segment([pos2(x, rect.top()), pos2(x, rect.bottom())], grid);
        painter.line_segment([pos2(rect.left(), y), pos2(rect.right(), y)], grid);
    }
    let small = FontId::proportional(11.0);
    let corner = |pos, align, text: &str| {
        painter.text(pos, align, text, small.clone(), theme::MUTED);
    };
    let inset = 6.0;
    corner(
        pos2(rect.left() + inset, rect.top() + inset),
        Align2::LEFT_TOP,
        "bright · calm",
    );
    corner(
        pos2(rect.right() - inset, rect.top() + inset),
        Align2::RIGHT_TOP,
        "bright · busy",
    );
    corner(
        pos2(rect.left() + inset, rect.bottom() - inset),
        Align2::LEFT_BOTTOM,
        "dark · calm",
    );
    corner(
        pos2(rect.right() - inset, rect.bottom() - inset),
        Align2::RIGHT_BOTTOM,
        "dark · busy",
    );
    let marker = pad_position(
        rect,
        energy.unmodulated_normalized_value(),
        valence.unmodulated_normalized_value(),
    );
    let glow = if is_held { 0.45 } else { 0.25 };
    painter.circle_filled(marker, 14.0, theme::ACCENT.gamma_multiply(glow));
    painter.circle_filled(marker, 6.0, theme::ACCENT);
    painter.rect_stroke(
        rect,
        CornerRadius::same(8),
        Stroke::new(1.0, theme::GRID),
        StrokeKind::Inside,
    );
    response.on_hover_text("Drag: energy left to right, valence (brightness) bottom to top")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_maps_the_pointer_to_energy_and_valence() {
        // A 200 × 100 pad at (10, 20): right edge x 210, bottom y 120.
        let pad = Rect::from_min_max(pos2(10.0, 20.0), pos2(210.0, 120.0));
        assert_eq!(pad_values(pad, pos2(10.0, 120.0)), (0.0, 0.0));
        assert_eq!(pad_values(pad, pos2(210.0, 20.0)), (1.0, 1.0));
        // 60 of 200 across, 75 of 100 up from the bottom.
        assert_eq!(pad_values(pad, pos2(70.0, 45.0)), (0.3, 0.75));
        // Outside clamps.
        assert_eq!(pad_values(pad, pos2(-50.0, 500.0)), (0.0, 0.0));
        assert_eq!(pad_values(pad, pos2(900.0, -3.0)), (1.0, 1.0));
        assert_eq!(pad_position(pad, 0.5, 0.25), pos2(110.0, 95.0));
        assert_eq!(pad_position(pad, 2.0, -1.0), pos2(210.0, 120.0));
    }
}
