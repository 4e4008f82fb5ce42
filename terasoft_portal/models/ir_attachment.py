"""What the portal accepts as an uploaded file: an allow-list of types, checked on the
extension *and* on the content (libmagic through python-magic), and no zip bombs."""

import io
import logging
import os
import zipfile

import magic

from odoo import api, models

_logger = logging.getLogger(__name__)

# ir.config_parameter keys, also exposed in res.config.settings
PARAM_MAX_SIZE = "terasoft_portal.attachment_max_size_mb"
PARAM_ALLOWED_EXT = "terasoft_portal.attachment_allowed_extensions"
PARAM_REFUSED_EXT_OLD = "terasoft_portal.attachment_refused_extensions"  # the former deny-list
DEFAULT_MAX_SIZE_MB = 25
DEFAULT_ALLOWED_EXT = "pdf,png,jpg,jpeg,gif,webp,doc,docx,xls,xlsx,ods,odt,ppt,pptx,rtf,txt,log,csv,zip,7z"

# Zip archives (office documents are zips too) are inspected without extracting anything.
ZIP_MAX_UNCOMPRESSED = 200 * 1024 * 1024  # bytes, all nested archives together
ZIP_MAX_RATIO = 100  # uncompressed / compressed, over the archive
ZIP_MAX_ENTRIES = 10000
ZIP_MAX_DEPTH = 3  # archives inside archives inside archives

_OLE = {"application/x-ole-storage", "application/CDFV2", "application/vnd.ms-office"}
# A zip-based document is sometimes seen by libmagic as a plain zip (when [Content_Types].xml
# is not its first member): then its structure is checked (see _upload_content_error).
_ZIP = {"application/zip", "application/x-zip-compressed"}
_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
# extension -> MIME types libmagic may give for a genuine file of that type
CONTENT_TYPES = {
    "pdf": {"application/pdf"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "webp": {"image/webp"},
    "doc": _OLE | {"application/msword"},
    "xls": _OLE | {"application/vnd.ms-excel"},
    "ppt": _OLE | {"application/vnd.ms-powerpoint"},
    "docx": _ZIP | {_OOXML + "wordprocessingml.document"},
    "xlsx": _ZIP | {_OOXML + "spreadsheetml.sheet"},
    "pptx": _ZIP | {_OOXML + "presentationml.presentation"},
    "odt": _ZIP | {_ODF + "text"},
    "ods": _ZIP | {_ODF + "spreadsheet"},
    "rtf": {"text/rtf", "application/rtf"},
    "txt": {"text/*"},
    "log": {"text/*"},
    "csv": {"text/*", "application/csv"},
    "zip": _ZIP,
    "7z": {"application/x-7z-compressed"},
}
ZIP_BASED = {"docx", "xlsx", "pptx", "odt", "ods", "zip"}
# ODF documents name their type in their "mimetype" member
ODF_MIMETYPES = {"odt": _ODF + "text", "ods": _ODF + "spreadsheet"}
# Never accepted, whatever the extension (also for extensions an admin adds to the list)
REFUSED_CONTENT = {
    "application/x-dosexec",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-mach-binary",
    "application/x-pie-executable",
    "application/x-msi",
    "application/java-archive",
    "text/x-shellscript",
    "text/x-msdos-batch",
    "text/html",
    "text/xml",
    "application/xml",
    "image/svg+xml",
    "application/javascript",
    "text/javascript",
}


def _mime_matches(mime, accepted):
    return mime in accepted or ("text/*" in accepted and mime.startswith("text/"))


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    @api.model
    def _terasoft_upload_rules(self):
        """Return ``(max_bytes, allowed_extensions)`` from the settings (sudo: portal callers)."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            max_mb = int(params.get_param(PARAM_MAX_SIZE, DEFAULT_MAX_SIZE_MB))
        except ValueError:
            max_mb = DEFAULT_MAX_SIZE_MB
        allowed = params.get_param(PARAM_ALLOWED_EXT, DEFAULT_ALLOWED_EXT) or ""
        extensions = {ext.strip().lower().lstrip(".") for ext in allowed.split(",") if ext.strip()}
        return max_mb * 1024 * 1024, extensions

    @api.model
    def _terasoft_migrate_refused_extensions(self):
        """The former deny-list setting becomes the allow-list: the default list without the
        types the admin had refused. Idempotent (the old parameter is removed)."""
        params = self.env["ir.config_parameter"].sudo()
        old = params.search([("key", "=", PARAM_REFUSED_EXT_OLD)])
        if not old:
            return
        refused = {ext.strip().lower().lstrip(".") for ext in (old.value or "").split(",")}
        if not params.get_param(PARAM_ALLOWED_EXT):
            params.set_param(
                PARAM_ALLOWED_EXT, ",".join(ext for ext in DEFAULT_ALLOWED_EXT.split(",") if ext not in refused)
            )
        old.unlink()

    @api.model
    def _terasoft_upload_errors(self, files):
        """Check files uploaded by a customer against the settings.

        :param files: list of ``(filename, content_bytes)``
        :return: a list of error messages, one per refused file (empty: all accepted)
        """
        max_bytes, allowed = self._terasoft_upload_rules()
        errors = []
        for filename, content in files:
            extension = os.path.splitext(filename)[1].lower().lstrip(".")
            if not extension or extension not in allowed:
                errors.append(
                    self.env._(
                        "%(file)s: this type of file is not accepted. Accepted types: %(types)s.",
                        file=filename,
                        types=", ".join(sorted(allowed)),
                    )
                )
            elif len(content) > max_bytes:
                errors.append(
                    self.env._(
                        "%(file)s is larger than the maximum of %(size)s MB.",
                        file=filename,
                        size=max_bytes // (1024 * 1024),
                    )
                )
            elif not content:
                errors.append(self.env._("%(file)s is empty.", file=filename))
            else:
                error = self._terasoft_upload_content_error(filename, extension, content)
                if error:
                    errors.append(error)
        return errors

    @api.model
    def _terasoft_upload_content_error(self, filename, extension, content):
        """The error message for a file whose content is not what its extension says, or
        is an archive too large once uncompressed; None when it is fine."""
        mime = magic.from_buffer(content, mime=True)
        accepted = CONTENT_TYPES.get(extension)
        if mime in REFUSED_CONTENT or (accepted is not None and not _mime_matches(mime, accepted)):
            _logger.info("Upload %r refused: content %s does not match .%s", filename, mime, extension)
            return self.env._(
                "%(file)s: the content of the file is not a .%(ext)s file. Save it again in its "
                "own format, or put it in a zip archive.",
                file=filename,
                ext=extension,
            )
        if extension in ZIP_BASED or mime in _ZIP or mime.startswith((_OOXML, _ODF)):
            problem = self._terasoft_zip_problem(content, extension)
            if problem:
                _logger.info("Upload %r refused: %s", filename, problem)
                return self.env._("%(file)s: the archive is damaged, or too large once uncompressed.", file=filename)
        return None

    @api.model
    def _terasoft_zip_problem(self, content, extension=None):
        """Why the zip ``content`` is refused (None if accepted): unreadable, too many
        members, too large uncompressed or compressed too much (a "zip bomb"), nested archives
        counted; for an office document, not the structure of one. Nothing is extracted but
        the nested archives, each read at most up to its declared size, itself bounded."""
        budget = [ZIP_MAX_UNCOMPRESSED]

        def check(data, depth):
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
                infos = archive.infolist()
            except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
                return f"not a readable zip archive ({error})"
            if len(infos) > ZIP_MAX_ENTRIES:
                return f"{len(infos)} members"
            total = sum(info.file_size for info in infos)
            compressed = sum(info.compress_size for info in infos)
            budget[0] -= total
            if budget[0] < 0:
                return "too large once uncompressed"
            if total > 1024 * 1024 and total > ZIP_MAX_RATIO * max(compressed, 1):
                return f"compression ratio above {ZIP_MAX_RATIO}"
            if depth >= ZIP_MAX_DEPTH:
                return (
                    "archives nested too deep" if any(self._terasoft_is_zip_name(i.filename) for i in infos) else None
                )
            for info in infos:
                if not info.is_dir() and self._terasoft_is_zip_name(info.filename):
                    try:
                        with archive.open(info) as member:
                            nested = member.read(info.file_size + 1)
                    except (zipfile.BadZipFile, RuntimeError, ValueError, EOFError, NotImplementedError) as error:
                        return f"unreadable member {info.filename} ({error})"
                    problem = check(nested, depth + 1)
                    if problem:
                        return f"{info.filename}: {problem}"
            if depth == 0 and extension in ("docx", "xlsx", "pptx"):
                if "[Content_Types].xml" not in archive.namelist():
                    return "not an Office Open XML document"
            if depth == 0 and extension in ODF_MIMETYPES:
                try:
                    declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                except KeyError:
                    declared = ""
                if declared != ODF_MIMETYPES[extension]:
                    return "not an OpenDocument file of its type"
            return None

        return check(content, 0)

    @api.model
    def _terasoft_is_zip_name(self, name):
        return os.path.splitext(name)[1].lower().lstrip(".") in ZIP_BASED | {"jar"}
