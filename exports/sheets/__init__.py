"""One module per sheet of the budget workbook; ``common`` holds what they share."""
