import KubeClient
print("bench")
