/** Typings for the parts of ml-knn 3.0.0 meshward uses (the package ships none). */
declare module 'ml-knn' {
  type Point = ArrayLike<number> | Record<number, number>;
  interface KdTree {
    /** up to maxNodes nearest points as [point with the label appended, distance], in heap order (unsorted) */
    nearest(point: number[], maxNodes: number, maxDistance?: number): [number[], number][];
  }
  export default class KNN {
    constructor(
      dataset: number[][],
      labels: (number | string)[],
      options?: { k?: number; distance?: (a: Point, b: Point) => number },
    );
    readonly kdTree: KdTree;
    readonly k: number;
    predict(point: number[]): number | string;
    predict(points: number[][]): (number | string)[];
  }
}
