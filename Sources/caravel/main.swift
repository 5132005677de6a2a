import APIServer
print("caravel")
