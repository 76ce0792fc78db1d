module weft.test/go-h2-peer

go 1.24
