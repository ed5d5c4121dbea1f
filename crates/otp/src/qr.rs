//! QR codes of key URIs, as an authenticator app scans them: SVG for pages, PGM (netpbm) for
//! files and tools such as zbarimg. No image library: the PGM is a header and one byte a pixel.
//!
//! Error correction is level M (15 %), which keeps a 160-bit key URI at version 7–9: small enough
//! for any phone camera, robust enough for a screenshot.

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text is too long for a QR code.
    #[error("the text does not fit in a QR code")]
    TooLong,
}

fn code(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)
}

/// An SVG document of the QR code of `text`, with a quiet zone, black on white, sized by its
/// `viewBox` so pages can scale it.
pub fn svg(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// The quiet zone around a QR code, in modules (the standard's 4).
const QUIET: usize = 4;

/// A binary PGM image (netpbm `P5`, 8-bit grey) of the QR code of `text`: `module_px` pixels per
/// module (1 to 64), black on white, with a quiet zone.
pub fn pgm(text: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    let code = code(text)?;
    let px = module_px.clamp(1, 64) as usize;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * px;
    let mut out = format!("P5\n{side} {side}\n255\n").into_bytes();
    out.reserve(side * side);
    for y in 0..side {
        let row = (y / px).checked_sub(QUIET).filter(|r| *r < width);
        for x in 0..side {
            let col = (x / px).checked_sub(QUIET).filter(|c| *c < width);
            let dark =
                matches!((row, col), (Some(r), Some(c)) if colors[r * width + c] == Color::Dark);
            out.push(if dark { 0 } else { 255 });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_and_pgm_are_made() {
        let uri = "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP";
        let s = svg(uri).unwrap();
        assert!(s.contains("<svg"));
        let p = pgm(uri, 4).unwrap();
        let code = code(uri).unwrap();
        let side = (code.width() + 2 * QUIET) * 4;
        let header = format!("P5\n{side} {side}\n255\n");
        assert!(p.starts_with(header.as_bytes()));
        let pixels = &p[header.len()..];
        assert_eq!(pixels.len(), side * side);
        // The quiet zone is white; the top-left finder pattern's corner module is black.
        assert!(pixels[..side * QUIET * 4].iter().all(|&b| b == 255));
        assert_eq!(pixels[(QUIET * 4) * side + QUIET * 4], 0);
        assert!(pixels.iter().all(|&b| b == 0 || b == 255));
        assert!(matches!(pgm(&"x".repeat(8000), 4), Err(QrError::TooLong)));
    }
}
