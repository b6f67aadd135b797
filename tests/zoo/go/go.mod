module vmscope/zoo/go

go 1.19
