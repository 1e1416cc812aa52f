/*
 * qr.c — plum.qr_svg(text): a QR code as a standalone SVG document.
 *
 * The text's UTF-8 bytes are encoded with libqrencode in 8-bit (byte) mode,
 * error correction level M, the smallest version that holds them, so any
 * bytes, multi-byte UTF-8 included, read back exactly.  Byte mode means
 * ISO-8859-1 unless the symbol says otherwise (ISO/IEC 18004), so text that
 * is not all ASCII is preceded by the ECI designator 26 (UTF-8); without it,
 * decoders guess, and zbar reads a lone "é" as Shift-JIS.  ASCII text (codes,
 * links) has no ECI, for the widest reader support.
 *
 * The symbol is drawn in a viewBox of one unit per module, with the 4-module
 * quiet zone the standard asks for, on a white background; the dark modules
 * are one path with one rectangle per horizontal run of dark modules:
 *
 *		<svg ... viewBox="0 0 29 29" ...><rect .../><path d="M4 4h7v1h-7z..."/></svg>
 *
 * libqrencode allocates outside PostgreSQL's memory contexts; its input and
 * result are released on every path (QRinput_free, QRcode_free), including
 * an error while the SVG is built.
 */
#include "plum.h"

#include <errno.h>
#include <qrencode.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

/* the quiet zone around the symbol, in modules (ISO/IEC 18004) */
#define PLUM_QR_QUIET		4

/* the SVG's nominal size of one module, in pixels */
#define PLUM_QR_MODULE_PX	4

/* the ECI designator of UTF-8 */
#define PLUM_QR_ECI_UTF8	26

/*
 * The most bytes a version 40 symbol holds at level M in byte mode: 2331;
 * the ECI header (12 bits) leaves room for one byte less.
 */
#define PLUM_QR_MAX_ASCII	2331
#define PLUM_QR_MAX_UTF8	2330

static void ReportTooLong(int len, bool eci) pg_attribute_noreturn();
static void ReportQrFailure(int saved_errno, int len, bool eci) pg_attribute_noreturn();

/* Refuse text too long for any QR code at level M */
static void
ReportTooLong(int len, bool eci)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("text too long for a QR code"),
			 errdetail("The text is %d bytes in UTF-8; a QR code at error correction level M holds at most %d%s.",
					   len, eci ? PLUM_QR_MAX_UTF8 : PLUM_QR_MAX_ASCII,
					   eci ? " bytes of text that is not all ASCII" : ""),
			 errhint("Encode a shorter text, such as a link to the content.")));
}

/* Refuse text that cannot be encoded: empty, or too long for any QR code */
static inline void
CheckQrInput(int len, bool eci)
{
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot encode an empty string"),
				 errdetail("A QR code must hold at least one byte.")));
	if (len > (eci ? PLUM_QR_MAX_UTF8 : PLUM_QR_MAX_ASCII))
		ReportTooLong(len, eci);
}

/* Report libqrencode's failure (errno saved right after the call) */
static void
ReportQrFailure(int saved_errno, int len, bool eci)
{
	if (saved_errno == ERANGE)
		ReportTooLong(len, eci);
	if (saved_errno == ENOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("libqrencode could not allocate memory for a %d-byte text.", len)));
	elog(ERROR, "libqrencode failed to encode a %d-byte text: %s", len, strerror(saved_errno));
}

/* Whether len bytes are all ASCII */
static bool
QrIsAscii(const char *bytes, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		if (IS_HIGHBIT_SET(bytes[i]))
			return false;
	return true;
}

/* Encode len bytes at level M (UTF-8 ECI first if eci); NULL and *saved_errno on failure */
static QRcode *
QrEncode(const char *bytes, int len, bool eci, int *saved_errno)
{
	QRinput    *input;
	QRcode	   *qr = NULL;

	/* nothing here can ereport while libqrencode's input is allocated */
	errno = 0;
	input = QRinput_new2(0, QR_ECLEVEL_M);
	if (input != NULL)
	{
		if ((!eci || QRinput_appendECIheader(input, PLUM_QR_ECI_UTF8) == 0) &&
			QRinput_append(input, QR_MODE_8, len, (const unsigned char *) bytes) == 0)
			qr = QRcode_encodeInput(input);
		*saved_errno = errno;
		QRinput_free(input);
	}
	else
		*saved_errno = errno;
	return qr;
}

/* Append the SVG document of a QR symbol to buf */
static void
QrAppendSvg(StringInfo buf, const QRcode *qr)
{
	int			width = qr->width;
	int			size = width + 2 * PLUM_QR_QUIET;
	int			y;

	appendStringInfo(buf,
					 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
					 "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
					 "<path fill=\"#000\" d=\"",
					 size, size, size * PLUM_QR_MODULE_PX, size * PLUM_QR_MODULE_PX,
					 size, size);

	for (y = 0; y < width; y++)
	{
		const unsigned char *row = qr->data + (size_t) y * width;
		int			x = 0;

		while (x < width)
		{
			int			start;

			/* bit 0 of each module is dark (1) or light (0) */
			if (!(row[x] & 1))
			{
				x++;
				continue;
			}
			start = x;
			while (x < width && (row[x] & 1))
				x++;
			appendStringInfo(buf, "M%d %dh%dv1h-%dz",
							 start + PLUM_QR_QUIET, y + PLUM_QR_QUIET, x - start, x - start);
		}
	}
	appendStringInfoString(buf, "\"/></svg>");
}

PG_FUNCTION_INFO_V1(plum_qr_svg);
/* plum.qr_svg(text): the QR code of the text's UTF-8 bytes as an SVG document */
Datum
plum_qr_svg(PG_FUNCTION_ARGS)
{
	text	   *data = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(data);
	char	   *utf8;
	bool		eci;
	QRcode	   *qr;
	int			saved_errno = 0;
	StringInfoData buf;

	/* the bytes in UTF-8, whatever the database encoding (no copy if UTF8) */
	utf8 = pg_server_to_any(VARDATA_ANY(data), len, PG_UTF8);
	if (utf8 != VARDATA_ANY(data))
		len = strlen(utf8);
	eci = !QrIsAscii(utf8, len);
	CheckQrInput(len, eci);

	qr = QrEncode(utf8, len, eci, &saved_errno);
	if (qr == NULL)
		ReportQrFailure(saved_errno, len, eci);

	initStringInfo(&buf);
	PG_TRY();
	{
		QrAppendSvg(&buf, qr);
	}
	PG_FINALLY();
	{
		QRcode_free(qr);
	}
	PG_END_TRY();

	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
