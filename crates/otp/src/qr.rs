//! QR codes of key URIs, as an authenticator app scans them: SVG for pages, PNG for files.
//!
//! Error correction is level M (15 %), which keeps a 160-bit key URI at version 7–9: small enough
//! for any phone camera, robust enough for a screenshot.

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text is too long for a QR code.
    #[error("the text does not fit in a QR code")]
    TooLong,
    /// The PNG encoder failed.
    #[error("PNG encoding failed")]
    Png,
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

/// A PNG image of the QR code of `text`, `module_px` pixels per module (at least 1), with a quiet
/// zone.
pub fn png(text: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    let px = module_px.max(1);
    let img = code(text)?
        .render::<Luma<u8>>()
        .module_dimensions(px, px)
        .build();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|_| QrError::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_and_png_are_made() {
        let uri = "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP";
        let s = svg(uri).unwrap();
        assert!(s.contains("<svg"));
        let p = png(uri, 4).unwrap();
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert!(matches!(png(&"x".repeat(8000), 4), Err(QrError::TooLong)));
    }
}
