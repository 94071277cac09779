"""The one command language every transport speaks: parse, authorise, handle, reply."""
