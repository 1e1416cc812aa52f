-- QR codes (SPEC, "Distribution"): plum.qr_svg(text) draws the QR code of a code or link as an SVG
-- document, for qr deliveries. C on libqrencode (src/qr.c).

-- @api
CREATE FUNCTION plum.qr_svg(data text) RETURNS text
	AS 'MODULE_PATHNAME', 'plum_qr_svg'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.qr_svg(text) IS
	'The QR code of the text''s UTF-8 bytes as a standalone SVG 1.1 document: byte mode (with the UTF-8 ECI unless the text is all ASCII), error correction level M, the smallest version that fits, one viewBox unit and 4 px per module, a 4-module quiet zone. Empty text is 22023; more than 2331 bytes (2330 unless all ASCII) is 54000.';

REVOKE EXECUTE ON FUNCTION plum.qr_svg(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.qr_svg(text) TO plum_app;
