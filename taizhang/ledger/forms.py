"""Forms of the ledger pages."""

from taizhang.core.forms import TableUploadForm


class ImportForm(TableUploadForm):
    """An .xlsx or .csv file to check against the ledger."""
