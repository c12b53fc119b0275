"""Pictures of an index: the neighbourhood of a paper and the map of the whole collection.

`layout` computes the collection's 2D layout at build time (stored as map.npy in the index folder);
`scene` turns either picture into one plain record (points, edges, labels, colours) that the web page
(static/map.js), the HTML file (the same script, inlined) and the PNG/SVG files (matplotlib) all draw.
"""
