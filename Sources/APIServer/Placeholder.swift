import KubeModel
import Hummingbird
import GRDB
