"""Reading the index: search by text, similar papers, filters, fusion of dense and lexical results."""
