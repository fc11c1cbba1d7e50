package progrestest

type pushQueue struct{}
