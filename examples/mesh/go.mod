module example.com/mesh

go 1.19
